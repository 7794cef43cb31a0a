//! The simulated CSMS: accepts chargers (1.6, 2.0.1, 2.1; the subprotocol is picked from the
//! charger's offer), accepts their boots, authorizes every token, runs their transactions,
//! answers every charger-initiated message with a schema-valid reply, and issues the common
//! CSMS calls (remote start/stop, reset, trigger message, get/set configuration or variables)
//! on request through [`CsmsHandle`] or at a configured pace.
//!
//! It serves `ws://` or `wss://` (security profiles 2 and 3: [`CsmsConfig::tls`], with a
//! required client certificate when a client CA is set) and can require HTTP Basic
//! credentials (profiles 1 and 2: [`CsmsConfig::basic_auth`]), answering 401 otherwise. Why
//! it refused a connection goes to [`CsmsConfig::notices`], naming the user, never a password.
//!
//! It is a peer, not an inspector: it validates nothing and never refuses a message for its
//! content; a frame it cannot read is ignored. One tokio task per connection.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};

use super::auth::Credentials;
use super::link::{Link, Rpc, call_text, error_text, result_text};
use super::msg::{self, id_token};
use super::{Security, Tap, now, ws_config};
use crate::ocpp::action::lookup;
use crate::ocpp::{Side, Version};
use crate::source::proxy::io::Io;
use crate::source::proxy::tls::{ListenTls, describe_accept_error, peer_tls, server_config};

/// How the CSMS behaves.
#[derive(Clone)]
pub struct CsmsConfig {
    /// Where to listen (`127.0.0.1:0` picks a free port).
    pub listen: SocketAddr,
    /// The versions it accepts, in order of preference when a charger offers several.
    pub versions: Vec<Version>,
    /// The heartbeat interval (seconds) given in the BootNotification answer.
    pub heartbeat_interval: u32,
    /// Read a few configuration keys / variables right after each accepted boot, as real
    /// back ends do.
    pub read_config_after_boot: bool,
    /// Issue the next of the common CSMS calls on every connection at this pace.
    pub command_every: Option<Duration>,
    /// How long to wait for the answer to its own CALL before giving up on it.
    pub call_timeout: Duration,
    /// Record every connection here.
    pub record: Option<Tap>,
    /// Serve `wss://` with this certificate and key; with its `client_ca`, every charger
    /// must present a certificate that CA signed (security profile 3).
    pub tls: Option<ListenTls>,
    /// Require HTTP Basic credentials in the handshake (profiles 1 and 2); a charger
    /// without matching ones is answered 401.
    pub basic_auth: Option<Credentials>,
    /// One line per refused connection (TLS handshake failed, 401), if anyone listens; a
    /// full channel drops the line rather than wait.
    pub notices: Option<mpsc::Sender<String>>,
}

impl CsmsConfig {
    /// Defaults: every version, heartbeat 300 s, configuration read after boot, no periodic
    /// calls, 30 s call timeout, no recording.
    pub fn new(listen: SocketAddr) -> Self {
        CsmsConfig {
            listen,
            versions: Version::ALL.to_vec(),
            heartbeat_interval: 300,
            read_config_after_boot: true,
            command_every: None,
            call_timeout: Duration::from_secs(30),
            record: None,
            tls: None,
            basic_auth: None,
            notices: None,
        }
    }
}

/// A CSMS-initiated call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// RemoteStartTransaction (1.6) / RequestStartTransaction (2.x) on a connector or EVSE.
    RemoteStart { connector: u32, id_tag: String },
    /// RemoteStopTransaction / RequestStopTransaction of a running transaction this CSMS
    /// started remotely (skipped when none runs: a session the station started itself ends
    /// when the station decides, and a stop of ours could cross its own).
    RemoteStop,
    /// Reset: Hard/Soft (1.6), Immediate/OnIdle (2.x).
    Reset { hard: bool },
    /// TriggerMessage for `Heartbeat`, `StatusNotification`, `BootNotification`, `MeterValues`...
    Trigger(String),
    /// GetConfiguration (1.6) / GetVariables (2.x: `Component/Variable` keys); empty asks
    /// for a default set.
    GetConfig { keys: Vec<String> },
    /// ChangeConfiguration (1.6) / SetVariables (2.x: `Component/Variable` key).
    Configure { key: String, value: String },
}

/// The rotation of calls made when `command_every` is set. A remote start comes twice in a
/// row: the second finds the connector charging the first's session (or a session of the
/// station's own) and is rejected, as a lab asks for; the remote stop that follows stops a
/// session this CSMS started, which the simulated charger keeps running until stopped, so
/// the stop never crosses a stop of the charger's own.
fn rotation(i: usize, hb: u32) -> Command {
    match i % 7 {
        0 => Command::Trigger("Heartbeat".into()),
        1 => Command::GetConfig { keys: Vec::new() },
        2 => Command::Configure {
            key: "HeartbeatInterval".into(),
            value: hb.to_string(),
        },
        3 => Command::Trigger("StatusNotification".into()),
        4 | 5 => Command::RemoteStart {
            connector: 1,
            id_tag: REMOTE_TAG.into(),
        },
        _ => Command::RemoteStop,
    }
}

/// The idTag of the rotation's remote starts.
const REMOTE_TAG: &str = "SIM-REMOTE";

/// What the CSMS knows of one station, for callers of the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationView {
    pub identity: String,
    pub version: Version,
    pub connected: bool,
    /// Accepted BootNotifications so far (a reset shows as a second boot).
    pub boots: u32,
    pub transactions_started: u32,
    pub transactions_ended: u32,
    /// Answers received to the CSMS's own calls.
    pub answers: u32,
}

struct Entry {
    view: StationView,
    commands: mpsc::UnboundedSender<Command>,
    generation: u64,
}

struct Shared {
    stations: Mutex<HashMap<String, Entry>>,
    next_tx: AtomicI64,
    next_generation: AtomicI64,
}

impl Shared {
    fn update(&self, identity: &str, f: impl FnOnce(&mut StationView)) {
        if let Ok(mut map) = self.stations.lock()
            && let Some(e) = map.get_mut(identity)
        {
            f(&mut e.view);
        }
    }
}

/// Why a command could not be queued.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("no station `{0}` has connected to this CSMS")]
    Unknown(String),
    #[error("station `{0}` is not connected")]
    NotConnected(String),
}

/// Talks to a running CSMS: which stations it knows, and calls to make.
#[derive(Clone)]
pub struct CsmsHandle {
    shared: Arc<Shared>,
}

impl CsmsHandle {
    /// Queues a CSMS-initiated call to a connected station; it is sent when no other call of
    /// the CSMS is outstanding on that connection.
    pub fn send(&self, identity: &str, cmd: Command) -> Result<(), CommandError> {
        let map = self
            .shared
            .stations
            .lock()
            .map_err(|_| CommandError::Unknown(identity.into()))?;
        let e = map
            .get(identity)
            .ok_or_else(|| CommandError::Unknown(identity.into()))?;
        if !e.view.connected {
            return Err(CommandError::NotConnected(identity.into()));
        }
        e.commands
            .send(cmd)
            .map_err(|_| CommandError::NotConnected(identity.into()))
    }

    /// Every station seen, sorted by identity.
    pub fn stations(&self) -> Vec<StationView> {
        let mut v: Vec<StationView> = match self.shared.stations.lock() {
            Ok(map) => map.values().map(|e| e.view.clone()).collect(),
            Err(_) => Vec::new(),
        };
        v.sort_by(|a, b| a.identity.cmp(&b.identity));
        v
    }

    pub fn station(&self, identity: &str) -> Option<StationView> {
        let map = self.shared.stations.lock().ok()?;
        map.get(identity).map(|e| e.view.clone())
    }
}

/// A bound, not yet running CSMS.
pub struct Csms {
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    cfg: Arc<CsmsConfig>,
    shared: Arc<Shared>,
}

impl Csms {
    /// Reads the TLS files (an error names the file and what is wrong) and binds the
    /// listening socket.
    pub async fn bind(cfg: CsmsConfig) -> Result<Csms> {
        let acceptor = match &cfg.tls {
            Some(tls) => Some(tokio_rustls::TlsAcceptor::from(
                server_config(tls).context("CSMS simulator TLS")?,
            )),
            None => None,
        };
        let listener = TcpListener::bind(cfg.listen)
            .await
            .with_context(|| format!("CSMS simulator cannot listen on {}", cfg.listen))?;
        Ok(Csms {
            listener,
            acceptor,
            cfg: Arc::new(cfg),
            shared: Arc::new(Shared {
                stations: Mutex::new(HashMap::new()),
                next_tx: AtomicI64::new(1),
                next_generation: AtomicI64::new(1),
            }),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .context("CSMS simulator: no local address")
    }

    pub fn handle(&self) -> CsmsHandle {
        CsmsHandle {
            shared: self.shared.clone(),
        }
    }

    /// Accepts chargers until `shutdown` turns true, then closes every connection (1001).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut conns = JoinSet::new();
        loop {
            if *shutdown.borrow() {
                break;
            }
            tokio::select! {
                r = shutdown.changed() => {
                    if r.is_err() { break; }
                }
                accepted = self.listener.accept() => {
                    if let Ok((stream, peer)) = accepted {
                        let _ = stream.set_nodelay(true);
                        conns.spawn(secure_then_serve(
                            stream,
                            peer,
                            self.acceptor.clone(),
                            self.cfg.clone(),
                            self.shared.clone(),
                            shutdown.clone(),
                        ));
                    }
                }
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
            }
        }
        // Every connection sees the same shutdown and closes; bounded wait for them.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while conns.join_next().await.is_some() {}
        })
        .await;
        conns.abort_all();
    }
}

/// The station identity: the last non-empty path segment.
fn identity_of(path: &str) -> Option<String> {
    path.split('/')
        .rev()
        .find(|s| !s.is_empty())
        .map(str::to_owned)
}

fn notice(cfg: &CsmsConfig, line: String) {
    if let Some(tx) = &cfg.notices {
        let _ = tx.try_send(line);
    }
}

/// The TLS handshake (for `wss://`), then the connection.
async fn secure_then_serve(
    stream: TcpStream,
    peer: SocketAddr,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    cfg: Arc<CsmsConfig>,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let mut security = Security::default();
    let io = match acceptor {
        Some(acceptor) => {
            match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                Ok(Ok(s)) => {
                    let info = peer_tls(s.get_ref().1);
                    security.tls_version = info.version;
                    security.client_cert_subject = info.client_cert_subject;
                    Io::Server(Box::new(s))
                }
                Ok(Err(e)) => {
                    notice(
                        &cfg,
                        format!(
                            "TLS handshake from {peer} failed: {}",
                            describe_accept_error(&e)
                        ),
                    );
                    return;
                }
                Err(_) => {
                    notice(&cfg, format!("TLS handshake from {peer}: timed out"));
                    return;
                }
            }
        }
        None => Io::Plain(stream),
    };
    serve(io, peer, security, cfg, shared, shutdown).await;
}

async fn serve(
    stream: Io,
    peer: SocketAddr,
    mut security: Security,
    cfg: Arc<CsmsConfig>,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    // What the handshake callback picked: identity, version, Basic user.
    type Picked = Option<(String, Version, Option<String>)>;
    let picked: Arc<Mutex<Picked>> = Arc::new(Mutex::new(None));
    let slot = picked.clone();
    let versions = cfg.versions.clone();
    let credentials = cfg.basic_auth.clone();
    let cfg_for_notice = cfg.clone();
    // The callback's type is fixed by tungstenite.
    #[allow(clippy::result_large_err)]
    let callback = move |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
        let refuse = |status: StatusCode, why: &str| {
            let mut r = ErrorResponse::new(Some(why.to_owned()));
            *r.status_mut() = status;
            r
        };
        let Some(identity) = identity_of(req.uri().path()) else {
            return Err(refuse(
                StatusCode::NOT_FOUND,
                "no station identity in the URL path",
            ));
        };
        let user = match &credentials {
            Some(creds) => {
                let header = req
                    .headers()
                    .get("authorization")
                    .map(HeaderValue::as_bytes);
                match creds.check(header, &identity) {
                    Ok(user) => Some(user),
                    Err(why) => {
                        notice(
                            &cfg_for_notice,
                            format!("refused {identity} from {peer} with HTTP 401: {why}"),
                        );
                        let mut r = refuse(StatusCode::UNAUTHORIZED, "authentication required");
                        r.headers_mut().insert(
                            "WWW-Authenticate",
                            HeaderValue::from_static("Basic realm=\"OCPP\""),
                        );
                        return Err(r);
                    }
                }
            }
            None => None,
        };
        let offered: Vec<&str> = req
            .headers()
            .get_all("Sec-WebSocket-Protocol")
            .iter()
            .filter_map(|h| h.to_str().ok())
            .flat_map(|h| h.split(','))
            .map(str::trim)
            .collect();
        let Some(version) = versions
            .iter()
            .copied()
            .find(|v| offered.contains(&v.subprotocol()))
        else {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                "no supported OCPP subprotocol offered",
            ));
        };
        resp.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(version.subprotocol()),
        );
        if let Ok(mut p) = slot.lock() {
            *p = Some((identity, version, user));
        }
        Ok(resp)
    };
    let handshake =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config()));
    let Ok(Ok(ws)) = tokio::time::timeout(Duration::from_secs(10), handshake).await else {
        return;
    };
    let Some((identity, version, user)) = picked.lock().ok().and_then(|mut p| p.take()) else {
        return;
    };
    security.basic_auth_user = user;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let generation = shared.next_generation.fetch_add(1, Ordering::Relaxed) as u64;
    if let Ok(mut map) = shared.stations.lock() {
        let e = map.entry(identity.clone()).or_insert_with(|| Entry {
            view: StationView {
                identity: identity.clone(),
                version,
                connected: true,
                boots: 0,
                transactions_started: 0,
                transactions_ended: 0,
                answers: 0,
            },
            commands: tx.clone(),
            generation,
        });
        e.view.connected = true;
        e.view.version = version;
        e.commands = tx;
        e.generation = generation;
    }
    let link = Link::open(
        ws,
        Arc::from(identity.as_str()),
        Side::Csms,
        version.subprotocol(),
        &security,
        cfg.record.clone(),
    );
    let mut c = Conn {
        link,
        v: version,
        cfg: cfg.clone(),
        shared: shared.clone(),
        identity: identity.clone(),
        outstanding: None,
        queue: VecDeque::new(),
        booted: false,
        next_id: 1,
        txs16: Vec::new(),
        txs2: Vec::new(),
        remote_start_id: 0,
        remote_tags: VecDeque::new(),
    };
    let mut ticker = cfg.command_every.map(|every| {
        let every = every.max(Duration::from_millis(10));
        tokio::time::interval_at(Instant::now() + every, every)
    });
    let mut turn = 0usize;
    loop {
        let deadline = c.outstanding.as_ref().map(|o| o.1 + cfg.call_timeout);
        tokio::select! {
            r = shutdown.changed() => {
                if r.is_err() || *shutdown.borrow() {
                    c.link.close(1001).await;
                    break;
                }
            }
            Some(cmd) = rx.recv() => c.queue.push_back(cmd),
            _ = async { if let Some(t) = ticker.as_mut() { t.tick().await; } }, if ticker.is_some() => {
                c.queue.push_back(rotation(turn, cfg.heartbeat_interval));
                turn += 1;
            }
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                c.outstanding = None;
            }
            r = c.link.recv() => match r {
                Ok(text) => {
                    if c.on_frame(&text).await.is_err() { break; }
                }
                Err(_) => break,
            }
        }
        if c.pump().await.is_err() {
            break;
        }
    }
    c.link.abandon();
    if let Ok(mut map) = shared.stations.lock()
        && let Some(e) = map.get_mut(&identity)
        && e.generation == generation
    {
        e.view.connected = false;
    }
}

struct Conn<S> {
    link: Link<S>,
    v: Version,
    cfg: Arc<CsmsConfig>,
    shared: Arc<Shared>,
    identity: String,
    /// The CSMS's own unanswered CALL: (id, sent at).
    outstanding: Option<(String, Instant)>,
    queue: VecDeque<Command>,
    booted: bool,
    next_id: u64,
    /// 1.6 running transactions: (transactionId, started by our remote start).
    txs16: Vec<(i64, bool)>,
    /// 2.x running transactions: (transactionId, started by our remote start).
    txs2: Vec<(String, bool)>,
    remote_start_id: i64,
    /// 1.6: the idTags of our remote starts not yet seen in a StartTransaction (the last 8).
    remote_tags: VecDeque<String>,
}

type SendResult = Result<(), super::link::LinkError>;

impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Conn<S> {
    async fn on_frame(&mut self, text: &str) -> SendResult {
        match Rpc::parse(text) {
            Rpc::Call {
                id,
                action,
                payload,
            } => {
                let reply = match self.answer(&action, &payload) {
                    Ok(p) => result_text(&id, &p),
                    Err(code) => error_text(&id, code, "not handled by the simulated CSMS"),
                };
                self.link.send(reply).await?;
            }
            Rpc::Result { id, .. } | Rpc::Error { id, .. } => {
                if self.outstanding.as_ref().is_some_and(|o| o.0 == id) {
                    self.outstanding = None;
                    self.shared.update(&self.identity, |v| v.answers += 1);
                }
            }
            Rpc::Other => {}
        }
        Ok(())
    }

    /// Sends the next queued call if none is outstanding.
    async fn pump(&mut self) -> SendResult {
        while self.outstanding.is_none() && self.booted {
            let Some(cmd) = self.queue.pop_front() else {
                return Ok(());
            };
            let Some((action, payload)) = self.build(&cmd) else {
                continue;
            };
            let id = format!("csms-{}", self.next_id);
            self.next_id += 1;
            self.link.send(call_text(&id, action, &payload)).await?;
            self.outstanding = Some((id, Instant::now()));
        }
        Ok(())
    }

    /// The answer to a charger's CALL: a payload, or a CALLERROR code.
    fn answer(&mut self, action: &str, p: &Value) -> Result<Value, &'static str> {
        let v = self.v;
        let ts = now();
        let Some((_, info)) = lookup(v, action) else {
            return Err("NotImplemented");
        };
        if !info.dir.allows(Side::Charger) {
            return Err("NotSupported");
        }
        let accepted = if v.is_2x() {
            json!({"idTokenInfo": {"status": "Accepted"}})
        } else {
            json!({"idTagInfo": {"status": "Accepted"}})
        };
        Ok(match action {
            "BootNotification" => {
                self.booted = true;
                self.shared.update(&self.identity, |s| s.boots += 1);
                if self.cfg.read_config_after_boot {
                    self.queue
                        .push_front(Command::GetConfig { keys: Vec::new() });
                }
                json!({"status": "Accepted", "currentTime": ts, "interval": self.cfg.heartbeat_interval})
            }
            "Heartbeat" => json!({ "currentTime": ts }),
            "Authorize" => accepted,
            "StartTransaction" => {
                let tx = self.shared.next_tx.fetch_add(1, Ordering::Relaxed);
                // 1.6 names no remote start in StartTransaction: its idTag is the one we sent.
                let tag = p.get("idTag").and_then(Value::as_str);
                let remote = self
                    .remote_tags
                    .iter()
                    .position(|t| Some(t.as_str()) == tag);
                if let Some(i) = remote {
                    self.remote_tags.remove(i);
                }
                self.txs16.push((tx, remote.is_some()));
                self.shared
                    .update(&self.identity, |s| s.transactions_started += 1);
                json!({"transactionId": tx, "idTagInfo": {"status": "Accepted"}})
            }
            "StopTransaction" => {
                let tx = p.get("transactionId").and_then(Value::as_i64);
                if let Some(pos) = self.txs16.iter().position(|t| Some(t.0) == tx) {
                    self.txs16.remove(pos);
                    self.shared
                        .update(&self.identity, |s| s.transactions_ended += 1);
                }
                if p.get("idTag").is_some() {
                    accepted
                } else {
                    json!({})
                }
            }
            "TransactionEvent" => {
                let tx = p
                    .pointer("/transactionInfo/transactionId")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                match p.get("eventType").and_then(Value::as_str) {
                    Some("Started") => {
                        let remote = p.pointer("/transactionInfo/remoteStartId").is_some()
                            || p.get("triggerReason").and_then(Value::as_str)
                                == Some("RemoteStart");
                        self.txs2.push((tx, remote));
                        self.shared
                            .update(&self.identity, |s| s.transactions_started += 1);
                    }
                    Some("Ended") => {
                        if let Some(pos) = self.txs2.iter().position(|t| t.0 == tx) {
                            self.txs2.remove(pos);
                            self.shared
                                .update(&self.identity, |s| s.transactions_ended += 1);
                        }
                    }
                    _ => {}
                }
                if p.get("idToken").is_some() {
                    accepted
                } else {
                    json!({})
                }
            }
            "DataTransfer" => json!({"status": "UnknownVendorId"}),
            other => msg::minimal(v, &format!("{other}Response"), &ts),
        })
    }

    /// The CALL for a command, or `None` when it does not apply now.
    fn build(&mut self, cmd: &Command) -> Option<(&'static str, Value)> {
        let v2 = self.v.is_2x();
        Some(match cmd {
            Command::RemoteStart { connector, id_tag } => {
                if v2 {
                    self.remote_start_id += 1;
                    (
                        "RequestStartTransaction",
                        json!({"idToken": id_token(id_tag), "remoteStartId": self.remote_start_id, "evseId": connector}),
                    )
                } else {
                    if self.remote_tags.len() == 8 {
                        self.remote_tags.pop_front();
                    }
                    self.remote_tags.push_back(id_tag.clone());
                    (
                        "RemoteStartTransaction",
                        json!({"connectorId": connector, "idTag": id_tag}),
                    )
                }
            }
            Command::RemoteStop => {
                if v2 {
                    let tx = &self.txs2.iter().find(|t| t.1)?.0;
                    ("RequestStopTransaction", json!({ "transactionId": tx }))
                } else {
                    let tx = self.txs16.iter().find(|t| t.1)?.0;
                    ("RemoteStopTransaction", json!({ "transactionId": tx }))
                }
            }
            Command::Reset { hard } => {
                let ty = match (v2, hard) {
                    (false, true) => "Hard",
                    (false, false) => "Soft",
                    (true, true) => "Immediate",
                    (true, false) => "OnIdle",
                };
                ("Reset", json!({ "type": ty }))
            }
            // 2.x: a triggered StatusNotification names its EVSE and connector (F06.FR.13).
            Command::Trigger(what) if v2 && what == "StatusNotification" => (
                "TriggerMessage",
                json!({ "requestedMessage": what, "evse": { "id": 1, "connectorId": 1 } }),
            ),
            Command::Trigger(what) => ("TriggerMessage", json!({ "requestedMessage": what })),
            Command::GetConfig { keys } => {
                if v2 {
                    let keys: Vec<String> = if keys.is_empty() {
                        DEFAULT_VARIABLES.iter().map(|s| (*s).to_owned()).collect()
                    } else {
                        keys.clone()
                    };
                    let data: Vec<Value> = keys.iter().map(|k| component_variable(k)).collect();
                    ("GetVariables", json!({ "getVariableData": data }))
                } else {
                    let keys: Vec<&str> = if keys.is_empty() {
                        DEFAULT_KEYS.to_vec()
                    } else {
                        keys.iter().map(String::as_str).collect()
                    };
                    ("GetConfiguration", json!({ "key": keys }))
                }
            }
            Command::Configure { key, value } => {
                if v2 {
                    let mut e = component_variable(key);
                    if let Some(o) = e.as_object_mut() {
                        o.insert("attributeValue".into(), json!(value));
                    }
                    ("SetVariables", json!({ "setVariableData": [e] }))
                } else {
                    let key = key.rsplit('/').next().unwrap_or(key);
                    ("ChangeConfiguration", json!({"key": key, "value": value}))
                }
            }
        })
    }
}

/// Keys read after a 1.6 boot.
const DEFAULT_KEYS: &[&str] = &[
    "HeartbeatInterval",
    "MeterValueSampleInterval",
    "NumberOfConnectors",
];

/// Variables read after a 2.x boot.
const DEFAULT_VARIABLES: &[&str] = &[
    "OCPPCommCtrlr/HeartbeatInterval",
    "SampledDataCtrlr/TxUpdatedInterval",
    "AuthCtrlr/AuthorizeRemoteStart",
];

/// `Component/Variable` (or a bare variable of OCPPCommCtrlr) → a 2.x entry.
fn component_variable(key: &str) -> Value {
    let (component, variable) = key.split_once('/').unwrap_or(("OCPPCommCtrlr", key));
    json!({"component": {"name": component}, "variable": {"name": variable}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_the_last_path_segment() {
        assert_eq!(identity_of("/ocpp/CP-1").as_deref(), Some("CP-1"));
        assert_eq!(identity_of("/ocpp/CP-1/").as_deref(), Some("CP-1"));
        assert_eq!(identity_of("/"), None);
    }
}
