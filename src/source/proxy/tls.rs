//! TLS for the proxy (security profiles 2 and 3): the rustls configuration that terminates
//! `wss://` from chargers (with a required client certificate checked against a CA for
//! profile 3), the one that connects to a `wss://` CSMS, and what a finished handshake says
//! about the charger. Reads PEM files; never logs key material.

use std::path::PathBuf;
use std::sync::Arc;

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
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// What a finished server-side handshake says about the charger.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerTls {
    /// `1.2` or `1.3`.
    pub version: Option<&'static str>,
    /// The subject of the charger's client certificate, e.g. `CN=CP-001, O=Example`.
    pub client_cert_subject: Option<String>,
    /// The common name of that subject (OCPP puts the station identity there).
    pub client_cert_cn: Option<String>,
}

/// The rustls configuration for the listening side (TLS 1.2 minimum).
pub fn server_config(_tls: &ListenTls) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    Err(TlsError::Config("TLS is not built yet".into()))
}

/// The rustls configuration for a `wss://` upstream (TLS 1.2 minimum).
pub fn client_config(_tls: &UpstreamTls) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    Err(TlsError::Config("TLS is not built yet".into()))
}

/// What the handshake of `conn` says about the charger.
pub fn peer_tls(_conn: &rustls::ServerConnection) -> PeerTls {
    PeerTls::default()
}
