//! How a station reaches the CSMS: TCP, then TLS for `wss://` (trusting `--ca`, and with
//! the client certificate of `--cert`/`--key` for security profile 3), then the WebSocket
//! handshake with its subprotocol and, for profiles 1 and 2, its Basic credentials.
//!
//! Failures are worded for the operator (which file, what the TLS layer refused, that
//! authentication was refused) and say whether retrying can help. The password is in none
//! of them, and the `Authorization` header is marked sensitive.

use std::path::{Path, PathBuf};

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::FleetConfig;
use crate::ocpp::Version;
use crate::sim::auth::BasicAuth;
use crate::sim::{Security, ws_config};
use crate::source::proxy::io::Io;
use crate::source::proxy::tls::{TlsError, UpstreamTls, client_config, system_bundle};

/// What every station of a fleet connects with, built once (files read and checked once).
pub(crate) struct Connector {
    tls: Option<TlsSetup>,
    auth: Option<BasicAuth>,
}

struct TlsSetup {
    connector: TlsConnector,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    /// The subject of our own client certificate, for the trace.
    subject: Option<String>,
}

/// A failed connection attempt: what happened, and whether another attempt can help (a
/// refused certificate or password will be refused again).
#[derive(Debug)]
pub(crate) struct ConnectError {
    pub(crate) message: String,
    pub(crate) permanent: bool,
}

fn transient(message: String) -> ConnectError {
    ConnectError {
        message,
        permanent: false,
    }
}

fn permanent(message: String) -> ConnectError {
    ConnectError {
        message,
        permanent: true,
    }
}

/// A TLS set-up error with the flag that named the file.
fn flag_error(e: TlsError, cfg: &FleetConfig) -> anyhow::Error {
    match e {
        TlsError::File { path, message } => {
            let flag = if Some(&path) == cfg.ca.as_ref() {
                "--ca"
            } else if Some(&path) == cfg.cert.as_ref() {
                "--cert"
            } else if Some(&path) == cfg.key.as_ref() {
                "--key"
            } else {
                "CA bundle"
            };
            anyhow::anyhow!("{flag} {}: {message}", path.display())
        }
        TlsError::Config(m) => anyhow::anyhow!("TLS set-up: {m}"),
    }
}

/// The subject of the first certificate of a PEM file (for the trace; unreadable files are
/// reported by the TLS set-up itself).
fn subject_of(path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let der = rustls::pki_types::CertificateDer::pem_slice_iter(&bytes)
        .next()?
        .ok()?;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    Some(cert.subject().to_string())
}

impl Connector {
    /// Reads and checks the TLS files; an error names the flag, the file and what is wrong.
    pub(crate) fn new(cfg: &FleetConfig) -> anyhow::Result<Connector> {
        let tls = if cfg.url.starts_with("wss://") {
            if cfg.ca.is_none() && system_bundle().is_none() {
                anyhow::bail!(
                    "--url is wss:// but no --ca was given, SSL_CERT_FILE is not set and /etc/ssl/certs/ca-certificates.crt does not exist: give the CA that signed the CSMS's certificate with --ca FILE"
                );
            }
            let config = client_config(&UpstreamTls {
                ca: cfg.ca.clone(),
                cert: cfg.cert.clone(),
                key: cfg.key.clone(),
            })
            .map_err(|e| flag_error(e, cfg))?;
            Some(TlsSetup {
                connector: TlsConnector::from(config),
                ca: cfg.ca.clone(),
                cert: cfg.cert.clone(),
                subject: cfg.cert.as_deref().and_then(subject_of),
            })
        } else {
            None
        };
        Ok(Connector {
            tls,
            auth: cfg.basic_auth.clone(),
        })
    }

    /// Opens station `identity`'s WebSocket at `url`, speaking version `v`.
    pub(crate) async fn connect(
        &self,
        url: &str,
        identity: &str,
        v: Version,
    ) -> Result<(tokio_tungstenite::WebSocketStream<Io>, Security), ConnectError> {
        let mut req = url
            .into_client_request()
            .map_err(|e| permanent(format!("bad URL {url}: {e}")))?;
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(v.subprotocol()),
        );
        let mut security = Security::default();
        if let Some(auth) = &self.auth {
            let mut value = HeaderValue::from_str(&auth.header(identity)).map_err(|_| {
                permanent("--basic-auth: the credentials are not a valid header value".into())
            })?;
            value.set_sensitive(true);
            req.headers_mut().insert("Authorization", value);
            security.basic_auth_user = Some(auth.user_for(identity).to_owned());
        }
        let host = req.uri().host().unwrap_or_default().to_owned();
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = req
            .uri()
            .port_u16()
            .unwrap_or(if self.tls.is_some() { 443 } else { 80 });
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| transient(format!("cannot connect to {url}: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let io = match &self.tls {
            Some(tls) => {
                let name = ServerName::try_from(host.clone())
                    .map_err(|_| permanent(format!("{url}: `{host}` is not a TLS server name")))?;
                let s = tls
                    .connector
                    .connect(name, tcp)
                    .await
                    .map_err(|e| tls.describe(&e, url, &host, "TLS handshake"))?;
                security.tls_version = match s.get_ref().1.protocol_version() {
                    Some(rustls::ProtocolVersion::TLSv1_3) => Some("1.3"),
                    Some(rustls::ProtocolVersion::TLSv1_2) => Some("1.2"),
                    _ => None,
                };
                security.client_cert_subject = tls.subject.clone();
                Io::Client(Box::new(s))
            }
            None => Io::Plain(tcp),
        };
        let (ws, resp) = tokio_tungstenite::client_async_with_config(req, io, Some(ws_config()))
            .await
            .map_err(|e| self.describe_ws(e, url, &host, identity))?;
        let sub = resp
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if sub != v.subprotocol() {
            return Err(permanent(format!(
                "{url} answered subprotocol `{sub}`, not {}",
                v.subprotocol()
            )));
        }
        Ok((ws, security))
    }

    fn describe_ws(
        &self,
        e: tokio_tungstenite::tungstenite::Error,
        url: &str,
        host: &str,
        identity: &str,
    ) -> ConnectError {
        use tokio_tungstenite::tungstenite::Error as E;
        match e {
            E::Http(resp) if resp.status().as_u16() == 401 => {
                let sent = match &self.auth {
                    Some(a) => format!(
                        "the user `{}` and password given with --basic-auth were not accepted",
                        a.user_for(identity)
                    ),
                    None => "no credentials were sent: give --basic-auth USER:PASS".into(),
                };
                permanent(format!(
                    "{url}: the CSMS refused authentication (HTTP 401 Unauthorized): {sent}"
                ))
            }
            E::Http(resp) => {
                let status = resp.status();
                transient(format!(
                    "{url}: the CSMS refused the WebSocket handshake with HTTP {} {}",
                    status.as_u16(),
                    status.canonical_reason().unwrap_or_default()
                ))
            }
            E::Io(io) => match &self.tls {
                // With TLS 1.3 the CSMS checks our certificate after our side of the
                // handshake is done: its refusal arrives as the first read fails.
                Some(tls) => tls.describe(&io, url, host, "TLS"),
                None => transient(format!("cannot connect to {url}: {io}")),
            },
            E::HttpFormat(_) | E::Protocol(_) if self.tls.is_none() => permanent(format!(
                "{url}: the answer is not a WebSocket handshake ({e}): does the CSMS serve wss:// rather than ws://?"
            )),
            E::HttpFormat(_) | E::Protocol(_) => permanent(format!(
                "{url}: the answer is not a WebSocket handshake ({e})"
            )),
            other => transient(format!("cannot connect to {url}: {other}")),
        }
    }
}

impl TlsSetup {
    /// Names why TLS with the CSMS failed, in the operator's terms.
    fn describe(&self, e: &std::io::Error, url: &str, host: &str, step: &str) -> ConnectError {
        use rustls::{AlertDescription as A, CertificateError as C, Error as R};
        let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<R>()) else {
            return transient(format!("{url}: {step} failed: {e}"));
        };
        let trust = match &self.ca {
            Some(ca) => format!("the CA in --ca {}", ca.display()),
            None => "the system's trusted CAs (no --ca given)".into(),
        };
        let why = match inner {
            R::InvalidCertificate(C::UnknownIssuer) => {
                format!("the CSMS's certificate is not signed by {trust}")
            }
            R::InvalidCertificate(C::BadSignature) => format!(
                "the CSMS's certificate is not signed by {trust} (its signature does not verify: another CA of the same name?)"
            ),
            R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                format!("the CSMS's certificate is not valid for the host name `{host}`")
            }
            R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                "the CSMS's certificate has expired".into()
            }
            R::InvalidCertificate(c) => format!("the CSMS's certificate was refused: {c:?}"),
            R::AlertReceived(alert) => {
                let hint = match (&self.cert, alert) {
                    (None, A::CertificateRequired | A::HandshakeFailure) => {
                        " — it requires a client certificate (security profile 3): give --cert and --key".to_owned()
                    }
                    (
                        Some(cert),
                        A::BadCertificate
                        | A::UnknownCA
                        | A::CertificateUnknown
                        | A::CertificateRevoked
                        | A::CertificateExpired
                        | A::UnsupportedCertificate
                        | A::AccessDenied,
                    ) => format!(
                        " — it refused the client certificate {} (is it signed by the CA the CSMS trusts, and still valid?)",
                        cert.display()
                    ),
                    _ => String::new(),
                };
                format!("the CSMS refused the TLS handshake (alert {alert:?}){hint}")
            }
            R::InvalidMessage(_) => {
                format!(
                    "the answer is not TLS ({inner}): does the CSMS serve ws:// rather than wss://?"
                )
            }
            R::PeerIncompatible(_) => format!("no TLS version or cipher in common ({inner})"),
            other => other.to_string(),
        };
        permanent(format!("{url}: {step} failed: {why}"))
    }
}
