//! Test peers for the proxy tests: a small CSMS and charger written with tokio-tungstenite
//! on 127.0.0.1 (port 0), test certificates (from `ocpp_inspector::certs`), and a harness that runs the
//! proxy in process with its findings on a channel and its recording in a temp file.
//! Every wait has a timeout ([`within`]).

#![allow(
    dead_code,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::result_large_err,
    reason = "test support: a failure here is a test failure"
)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ocpp_inspector::engine::schema::ErrataSelection;
use ocpp_inspector::engine::{Config, Engine, SchemaSet};
use ocpp_inspector::finding::{Finding, Severity};
use ocpp_inspector::pipeline::{Consumer, Inspector, LiveOutcome};
use ocpp_inspector::sink::channel::{ChannelSink, LiveItem};
use ocpp_inspector::source::proxy::io::Io;
use ocpp_inspector::source::proxy::tap::{Notice, TapLimits};
use ocpp_inspector::source::proxy::{Proxy, ProxyConfig, ProxyStats};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Response;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request};
use tokio_tungstenite::tungstenite::http;

/// The limit of every wait in the proxy tests.
pub const LIMIT: Duration = Duration::from_secs(10);

/// Awaits `f` for at most [`LIMIT`].
pub async fn within<F: std::future::Future>(what: &str, f: F) -> F::Output {
    match tokio::time::timeout(LIMIT, f).await {
        Ok(v) => v,
        Err(_) => panic!("timed out after {LIMIT:?}: {what}"),
    }
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

// ---------------------------------------------------------------- certificates

/// A test CA, a server certificate for localhost/127.0.0.1 and charger certificates (CN =
/// identity), as PEM files in a temp folder.
pub struct Certs {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl Certs {
    pub fn charger_cert(&self, identity: &str) -> PathBuf {
        self.dir.path().join(format!("{identity}.pem"))
    }
    pub fn charger_key(&self, identity: &str) -> PathBuf {
        self.dir.path().join(format!("{identity}.key"))
    }
}

/// Made with the tool's own `certs` module (as `ocpp-inspector certs` makes them).
pub fn make_certs(chargers: &[&str]) -> Certs {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut req = ocpp_inspector::certs::CertsRequest::new(dir.path());
    req.chargers = chargers.iter().map(|c| (*c).to_owned()).collect();
    ocpp_inspector::certs::generate(&req).expect("test certificates");
    Certs {
        ca: dir.path().join("ca.pem"),
        server_cert: dir.path().join("server.pem"),
        server_key: dir.path().join("server.key"),
        dir,
    }
}

fn certs_of(path: &Path) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(path)
        .expect("pem")
        .collect::<Result<Vec<_>, _>>()
        .expect("certs")
}

fn key_of(path: &Path) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(path).expect("key")
}

/// A TLS client trusting the test CA, with the charger certificate of `identity` if given.
pub fn client_tls(certs: &Certs, identity: Option<&str>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs_of(&certs.ca) {
        roots.add(c).expect("root");
    }
    let b = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots);
    Arc::new(match identity {
        Some(id) => b
            .with_client_auth_cert(
                certs_of(&certs.charger_cert(id)),
                key_of(&certs.charger_key(id)),
            )
            .expect("client cert"),
        None => b.with_no_client_auth(),
    })
}

/// A TLS server with the test server certificate; with `require_client`, a client
/// certificate of the test CA is required.
pub fn server_tls(certs: &Certs, require_client: bool) -> Arc<rustls::ServerConfig> {
    let b = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions");
    let b = if require_client {
        let mut roots = rustls::RootCertStore::empty();
        for c in certs_of(&certs.ca) {
            roots.add(c).expect("root");
        }
        let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .expect("verifier");
        b.with_client_cert_verifier(v)
    } else {
        b.with_no_client_auth()
    };
    Arc::new(
        b.with_single_cert(certs_of(&certs.server_cert), key_of(&certs.server_key))
            .expect("server config"),
    )
}

// ---------------------------------------------------------------- CSMS

/// How the test CSMS answers a handshake.
#[derive(Debug, Clone)]
pub enum Pick {
    /// The first subprotocol offered (none if none).
    First,
    /// This one, offered or not.
    Fixed(&'static str),
    /// No subprotocol at all.
    Nothing,
    /// Refuse with this HTTP status.
    Refuse(u16),
}

/// One connection the CSMS accepted, with the handshake it saw.
pub struct CsmsConn {
    pub ws: WebSocketStream<Io>,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl CsmsConn {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Handshakes a CSMS saw: path and headers.
pub type Seen = Arc<Mutex<Vec<(String, Vec<(String, String)>)>>>;

pub struct Csms {
    pub addr: SocketAddr,
    pub conns: mpsc::Receiver<CsmsConn>,
    /// Handshakes seen (including refused ones): path and headers.
    pub seen: Seen,
}

impl Csms {
    /// The next accepted connection.
    pub async fn accept(&mut self) -> CsmsConn {
        within("the CSMS accepting a connection", self.conns.recv())
            .await
            .expect("the CSMS task is running")
    }
}

/// Starts a CSMS on 127.0.0.1:0.
pub async fn csms(pick: Pick, tls: Option<Arc<rustls::ServerConfig>>) -> Csms {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = mpsc::channel(64);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    tokio::spawn(async move {
        // Bounded: the test runtime ends with the test.
        while let Ok((tcp, _)) = listener.accept().await {
            let tx = tx.clone();
            let pick = pick.clone();
            let tls = tls.clone();
            let seen = seen2.clone();
            tokio::spawn(async move {
                let io = match tls {
                    Some(cfg) => match tokio_rustls::TlsAcceptor::from(cfg).accept(tcp).await {
                        Ok(s) => Io::Server(Box::new(s)),
                        Err(_) => return,
                    },
                    None => Io::Plain(tcp),
                };
                let captured = Arc::new(Mutex::new((String::new(), Vec::new())));
                let cap = captured.clone();
                let callback = move |req: &Request, mut resp: http::Response<()>| {
                    let headers: Vec<(String, String)> = req
                        .headers()
                        .iter()
                        .map(|(n, v)| {
                            (
                                n.as_str().to_owned(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect();
                    let offered: Vec<String> = req
                        .headers()
                        .get_all("sec-websocket-protocol")
                        .iter()
                        .flat_map(|v| {
                            v.to_str()
                                .unwrap_or("")
                                .split(',')
                                .map(|s| s.trim().to_owned())
                                .collect::<Vec<_>>()
                        })
                        .filter(|s| !s.is_empty())
                        .collect();
                    let path = req.uri().to_string();
                    seen.lock().unwrap().push((path.clone(), headers.clone()));
                    *cap.lock().unwrap() = (path, headers);
                    let chosen = match &pick {
                        Pick::First => offered.first().cloned(),
                        Pick::Fixed(p) => Some((*p).to_owned()),
                        Pick::Nothing => None,
                        Pick::Refuse(code) => {
                            let mut r = ErrorResponse::new(Some("refused by the test CSMS".into()));
                            *r.status_mut() = http::StatusCode::from_u16(*code).unwrap();
                            r.headers_mut().insert(
                                "WWW-Authenticate",
                                http::HeaderValue::from_static("Basic realm=\"test\""),
                            );
                            return Err(r);
                        }
                    };
                    if let Some(p) = chosen {
                        resp.headers_mut().insert(
                            "Sec-WebSocket-Protocol",
                            http::HeaderValue::from_str(&p).unwrap(),
                        );
                    }
                    Ok(resp)
                };
                let Ok(ws) = tokio_tungstenite::accept_hdr_async(io, callback).await else {
                    return;
                };
                let (path, headers) = captured.lock().unwrap().clone();
                let _ = tx.send(CsmsConn { ws, path, headers }).await;
            });
        }
    });
    Csms {
        addr,
        conns: rx,
        seen,
    }
}

// ---------------------------------------------------------------- charger

/// How the test charger connects.
#[derive(Default, Clone)]
pub struct ChargerOpts {
    pub protocols: Vec<&'static str>,
    pub basic: Option<(&'static str, &'static str)>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

pub fn ocpp16() -> ChargerOpts {
    ChargerOpts {
        protocols: vec!["ocpp1.6"],
        ..ChargerOpts::default()
    }
}

/// Connects a charger to `url` (ws:// or wss://, host 127.0.0.1 or localhost).
pub async fn charger(
    url: &str,
    opts: &ChargerOpts,
) -> Result<(WebSocketStream<Io>, Response), tokio_tungstenite::tungstenite::Error> {
    use base64::Engine as _;
    let mut req = url.into_client_request()?;
    if !opts.protocols.is_empty() {
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            http::HeaderValue::from_str(&opts.protocols.join(", ")).unwrap(),
        );
    }
    if let Some((user, pass)) = opts.basic {
        let v = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        req.headers_mut().insert(
            "Authorization",
            http::HeaderValue::from_str(&format!("Basic {v}")).unwrap(),
        );
    }
    let host = req.uri().host().unwrap().to_owned();
    let port = req.uri().port_u16().unwrap();
    let tcp = TcpStream::connect((host.as_str(), port)).await?;
    let io = match &opts.tls {
        Some(cfg) => {
            let name = ServerName::try_from(host.clone()).unwrap();
            let s = tokio_rustls::TlsConnector::from(cfg.clone())
                .connect(name, tcp)
                .await?;
            Io::Client(Box::new(s))
        }
        None => Io::Plain(tcp),
    };
    tokio_tungstenite::client_async(req, io).await
}

/// Sends raw bytes as a handshake and returns what came back (until the peer closes).
pub async fn raw_handshake(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut s = within("connect", TcpStream::connect(addr))
        .await
        .expect("connect");
    // The proxy may answer before reading all of an oversized request.
    let _ = within("write", s.write_all(bytes)).await;
    let mut out = Vec::new();
    let _ = within("read the answer", s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------- the proxy in process

pub fn engine() -> Engine {
    Engine::new(
        Arc::new(SchemaSet::builtin(&ErrataSelection::all()).expect("schemas")),
        Arc::new(Config::default()),
        None,
    )
}

/// A proxy running in process: findings and notices on a channel, recording in a temp file.
pub struct Harness {
    pub addr: SocketAddr,
    /// The proxy's in-flight budget (what is taken now, the peak).
    pub budget: std::sync::Arc<ocpp_inspector::source::proxy::io::Budget>,
    pub items: mpsc::Receiver<LiveItem>,
    pub record: PathBuf,
    stop: watch::Sender<bool>,
    run: tokio::task::JoinHandle<ProxyStats>,
    consumer: Consumer,
    _dir: tempfile::TempDir,
}

pub async fn start(config: ProxyConfig) -> Harness {
    start_with(config, None).await
}

/// [`start`] with the inspection forgetting stations gone longer than `forget_after`.
pub async fn start_with(config: ProxyConfig, forget_after: Option<Duration>) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let record = dir.path().join("live.jsonl");
    let proxy = Proxy::bind(config).await.expect("the proxy binds");
    let addr = proxy.local_addr();
    let budget = proxy.in_flight_budget();
    let (sink, items) = ChannelSink::new(4096);
    let mut inspector = Inspector::new(engine(), Severity::Error).sink(sink);
    if let Some(after) = forget_after {
        inspector = inspector.forget_after(after);
    }
    let (tap, consumer) = ocpp_inspector::pipeline::spawn(inspector, TapLimits::default());
    // Recorded as `proxy --record` does: by the relays, before each frame is forwarded.
    let recorder = std::sync::Arc::new(ocpp_inspector::sink::recorder::SharedRecorder::new(
        std::fs::File::create(&record).expect("record file"),
    ));
    let tap = tap.recording(recorder);
    let (stop, stopped) = watch::channel(false);
    let run = tokio::spawn(proxy.run(tap, stopped));
    Harness {
        addr,
        budget,
        items,
        record,
        stop,
        run,
        consumer,
        _dir: dir,
    }
}

/// What a stopped harness leaves.
pub struct Stopped {
    pub stats: ProxyStats,
    pub outcome: LiveOutcome,
    pub recording: String,
    /// Every finding and notice the channel got.
    pub findings: Vec<Finding>,
    pub notices: Vec<(String, Notice)>,
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Waits for a finding of `rule` on the live stream (notices and other findings are
    /// skipped and returned).
    pub async fn finding(&mut self, rule: &str) -> Finding {
        within(&format!("a live finding {rule}"), async {
            loop {
                match self.items.recv().await {
                    Some(LiveItem::Finding(f)) if f.rule.id == rule => return f,
                    Some(_) => {}
                    None => panic!("the live stream ended without {rule}"),
                }
            }
        })
        .await
    }

    /// Waits for a notice whose text contains `needle`.
    pub async fn notice(&mut self, needle: &str) -> (String, Notice) {
        within(&format!("a notice containing {needle:?}"), async {
            loop {
                match self.items.recv().await {
                    Some(LiveItem::Notice { conn, notice }) if notice.text.contains(needle) => {
                        return (conn.to_string(), notice);
                    }
                    Some(_) => {}
                    None => panic!("the live stream ended without a notice {needle:?}"),
                }
            }
        })
        .await
    }

    /// Shuts the proxy down (1001 both ways) and collects everything.
    pub async fn stop(mut self) -> Stopped {
        let _ = self.stop.send(true);
        let stats = within("the proxy to stop", self.run).await.expect("run");
        let outcome = within("the consumer to finish", self.consumer.finish())
            .await
            .expect("consumer");
        let mut findings = Vec::new();
        let mut notices = Vec::new();
        while let Ok(item) = self.items.try_recv() {
            match item {
                LiveItem::Finding(f) => findings.push(f),
                LiveItem::Notice { conn, notice } => notices.push((conn.to_string(), notice)),
            }
        }
        let recording = std::fs::read_to_string(&self.record).expect("recording");
        Stopped {
            stats,
            outcome,
            recording,
            findings,
            notices,
        }
    }
}
