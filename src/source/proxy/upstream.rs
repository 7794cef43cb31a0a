//! The CSMS side of a proxied connection: where `--upstream` points, and opening a
//! connection there for one charger (TCP, TLS for `wss://`, then the charger's own handshake
//! request), all within one timeout. It reports what the CSMS answered; it decides nothing
//! about the charger (the listener mirrors the answer).

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::http::Uri;
use tokio_tungstenite::tungstenite::http::uri::InvalidUri;

use super::handshake::{self, AnswerError, ChargerRequest, HeadError, UpstreamAnswer};
use super::io::Io;

/// Where chargers are relayed to.
#[derive(Clone)]
pub struct Upstream {
    /// As given, for messages.
    pub url: String,
    host: String,
    port: u16,
    host_header: String,
    base_path: String,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    /// TCP keepalive toward the CSMS (zero: off).
    pub keepalive: Duration,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.url)
    }
}

/// Why the CSMS could not be reached or would not take the charger.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The proxy itself is out of file descriptors: not the CSMS's fault.
    #[error(
        "the proxy is out of file descriptors (raise `ulimit -n`); cannot open a connection to {url}"
    )]
    NoDescriptors { url: String },
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: std::io::Error },
    #[error("TLS handshake with {url} failed: {source}")]
    Tls { url: String, source: std::io::Error },
    #[error("{url} did not complete the handshake within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("{url} answered the handshake with something unusable: {reason}")]
    BadAnswer { url: String, reason: AnswerError },
}

/// Why `--upstream` is not a usable CSMS URL (found before anything is opened). No variant
/// holds the URL as given when it carries credentials: only with them blanked out.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamUrlError {
    #[error(
        "--upstream `{shown}` carries credentials (user:password@); they would travel in the Host header and show in messages. Give the CSMS URL without them: the charger's own Authorization header is passed through to the CSMS"
    )]
    Credentials { shown: String },
    #[error("--upstream `{url}` is not a URL: {reason}")]
    NotUrl { url: String, reason: String },
    #[error("--upstream `{url}` must start with ws:// or wss://")]
    Scheme { url: String },
    #[error("--upstream `{url}` has no host")]
    NoHost { url: String },
    #[error(
        "--upstream `{url}` has a query; the charger's path is appended to it, so give the base URL only"
    )]
    Query { url: String },
    #[error("--upstream `{url}` is wss:// but no TLS client configuration was given")]
    NoTlsConfig { url: String },
    #[error("--upstream `{url}`: `{name}` is not a TLS server name: {reason}")]
    ServerName {
        url: String,
        name: String,
        reason: String,
    },
}

/// `url` with any `user:password@` before the host replaced by `***@` (for messages).
pub fn redact_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rfind('@') {
        Some(at) => {
            let host = &authority[at + 1..];
            match scheme {
                Some(s) => format!("{s}://***@{host}{tail}"),
                None => format!("***@{host}{tail}"),
            }
        }
        None => url.to_owned(),
    }
}

impl Upstream {
    /// Parses `ws://HOST:PORT/BASE` or `wss://…`; `tls` is required for `wss://`.
    pub fn parse(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
    ) -> Result<Self, UpstreamUrlError> {
        // Credentials in the URL are refused before anything else reads it, and no message
        // below quotes the URL as given: only with its user information blanked out.
        let shown = redact_userinfo(url);
        if shown != url {
            return Err(UpstreamUrlError::Credentials { shown });
        }
        let owned = || url.to_owned();
        let uri: Uri = url
            .parse()
            .map_err(|e: InvalidUri| UpstreamUrlError::NotUrl {
                url: owned(),
                reason: e.to_string(),
            })?;
        let secure = match uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => return Err(UpstreamUrlError::Scheme { url: owned() }),
        };
        let host = uri
            .host()
            .ok_or_else(|| UpstreamUrlError::NoHost { url: owned() })?
            .to_owned();
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        if uri.query().is_some() {
            return Err(UpstreamUrlError::Query { url: owned() });
        }
        let host_header = uri
            .authority()
            .map_or_else(|| host.clone(), |a| a.as_str().to_owned());
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls = if secure {
            let Some(config) = tls else {
                return Err(UpstreamUrlError::NoTlsConfig { url: owned() });
            };
            let name =
                ServerName::try_from(bare.clone()).map_err(|e| UpstreamUrlError::ServerName {
                    url: owned(),
                    name: bare.clone(),
                    reason: e.to_string(),
                })?;
            Some((TlsConnector::from(config), name))
        } else {
            None
        };
        Ok(Upstream {
            url: url.to_owned(),
            host: bare,
            port,
            host_header,
            base_path: uri.path().to_owned(),
            tls,
            keepalive: Duration::ZERO,
        })
    }

    /// `wss://`?
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// Connects for `req` and does the handshake; returns the socket, any bytes read past
    /// the answer's head, and the answer.
    pub async fn open(
        &self,
        req: &ChargerRequest,
        limit: Duration,
    ) -> Result<(Io, Vec<u8>, UpstreamAnswer), UpstreamError> {
        match tokio::time::timeout(limit, self.open_inner(req)).await {
            Ok(r) => r,
            Err(_) => Err(UpstreamError::Timeout {
                url: self.url.clone(),
                secs: limit.as_secs(),
            }),
        }
    }

    async fn open_inner(
        &self,
        req: &ChargerRequest,
    ) -> Result<(Io, Vec<u8>, UpstreamAnswer), UpstreamError> {
        let url = || self.url.clone();
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|source| {
                if super::out_of_descriptors(&source) {
                    UpstreamError::NoDescriptors { url: url() }
                } else {
                    UpstreamError::Connect { url: url(), source }
                }
            })?;
        let _ = tcp.set_nodelay(true);
        super::keepalive(&tcp, self.keepalive);
        let mut io = match &self.tls {
            Some((connector, name)) => {
                let s = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|source| UpstreamError::Tls { url: url(), source })?;
                Io::Client(Box::new(s))
            }
            None => Io::Plain(tcp),
        };
        let request = handshake::upstream_request(&self.host_header, &self.base_path, req);
        io.write_all(&request)
            .await
            .map_err(|source| UpstreamError::Connect { url: url(), source })?;
        let (mut buf, head_len) = handshake::read_head(&mut io).await.map_err(|e| match e {
            HeadError::Io(source) => UpstreamError::Connect { url: url(), source },
            other => UpstreamError::BadAnswer {
                url: url(),
                reason: AnswerError::Head(other),
            },
        })?;
        let answer = handshake::parse_response(&buf[..head_len], &req.key)
            .map_err(|reason| UpstreamError::BadAnswer { url: url(), reason })?;
        let rest = buf.split_off(head_len);
        Ok((io, rest, answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_the_upstream_url_are_refused_without_being_quoted() {
        let e = Upstream::parse("ws://admin:s3cret@127.0.0.1:9/ocpp", None)
            .expect_err("credentials are refused")
            .to_string();
        assert!(!e.contains("s3cret") && !e.contains("admin"), "{e}");
        assert!(e.contains("ws://***@127.0.0.1:9/ocpp"), "{e}");
        let e = Upstream::parse("ws://token@127.0.0.1:9/ocpp", None)
            .expect_err("a user alone")
            .to_string();
        assert!(!e.contains("token"), "{e}");
        assert!(
            Upstream::parse("ws://127.0.0.1:9/o@p", None).is_ok(),
            "@ in the path is no userinfo"
        );
        assert_eq!(redact_userinfo("wss://a:b@h/x@y"), "wss://***@h/x@y");
        assert_eq!(redact_userinfo("ws://h:1/p"), "ws://h:1/p");
    }
}
