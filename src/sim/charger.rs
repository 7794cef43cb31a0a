//! The simulated charger fleet: N stations, each a tokio task with its own identity (the last
//! URL path segment), that boot, report connector status, heartbeat, run charging sessions
//! with meter values at a configured pace, answer the CSMS's calls (remote start/stop, reset,
//! trigger message, configuration / variables) and reconnect with backoff after a drop.
//!
//! A station told to misbehave ([`Misbehave`]) commits its fault once, at a fixed point of its
//! flow, and otherwise behaves. Stations judge nothing the CSMS sends; they never panic on it.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::link::{Link, Rpc, call_text, error_text, result_text};
use super::misbehave::Misbehave;
use super::msg::{self, ConnStatus, StationInfo, TxEvent};
use super::{Tap, now, ws_config};
use crate::ocpp::{Side, Version};

/// How fast a station lives.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Time between meter values of a session.
    pub meter_interval: Duration,
    /// Meter values per session (the session length is `samples × meter_interval`).
    pub samples: u32,
    /// Idle time before each locally started session.
    pub idle: Duration,
    /// How long to wait for the CSMS's answer to a CALL.
    pub call_timeout: Duration,
    /// First reconnect delay; doubled per failed attempt, up to 32×.
    pub backoff: Duration,
}

impl Pace {
    /// A human pace for demos: a meter value a minute, 10-minute sessions.
    pub fn human() -> Pace {
        Pace {
            meter_interval: Duration::from_secs(60),
            samples: 10,
            idle: Duration::from_secs(30),
            call_timeout: Duration::from_secs(30),
            backoff: Duration::from_secs(1),
        }
    }

    /// A test pace: a whole session in a few tens of milliseconds.
    pub fn fast() -> Pace {
        Pace {
            meter_interval: Duration::from_millis(10),
            samples: 2,
            idle: Duration::from_millis(5),
            call_timeout: Duration::from_secs(5),
            backoff: Duration::from_millis(50),
        }
    }
}

/// Which station a misbehaviour applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// 0-based index in the fleet.
    Index(usize),
    Identity(String),
    All,
}

/// The fleet to run.
#[derive(Clone)]
pub struct FleetConfig {
    /// The CSMS URL (`ws://host:port/path`); each station appends `/<identity>`.
    pub url: String,
    pub count: usize,
    /// Identities are the prefix and a 1-based number (`CP-001`).
    pub prefix: String,
    /// Station `i` speaks `versions[i % len]`.
    pub versions: Vec<Version>,
    /// Connectors (1.6) or EVSEs with one connector each (2.x) per station.
    pub connectors: u32,
    pub pace: Pace,
    /// Stations start sessions by themselves (otherwise only on remote start).
    pub local_sessions: bool,
    /// A station ends (closing its connection) after this many sessions; `None` runs until
    /// shutdown.
    pub sessions: Option<u32>,
    pub misbehave: Vec<(Target, Misbehave)>,
    /// Consecutive failed connection attempts before a station gives up.
    pub reconnect_attempts: u32,
    /// Delay between the starts of successive stations (spreads the connection storm).
    pub ramp: Duration,
    /// Record every station's traffic here.
    pub record: Option<Tap>,
}

impl FleetConfig {
    /// One 1.6 station with two connectors at the test pace, one local session.
    pub fn new(url: impl Into<String>) -> Self {
        FleetConfig {
            url: url.into(),
            count: 1,
            prefix: "CP-".into(),
            versions: vec![Version::V16],
            connectors: 2,
            pace: Pace::fast(),
            local_sessions: true,
            sessions: Some(1),
            misbehave: Vec::new(),
            reconnect_attempts: 5,
            ramp: Duration::ZERO,
            record: None,
        }
    }

    /// The identity of station `i` (0-based).
    pub fn identity(&self, i: usize) -> String {
        let width = self.count.to_string().len().max(3);
        format!("{}{:0width$}", self.prefix, i + 1)
    }

    /// The version of station `i`.
    pub fn version(&self, i: usize) -> Version {
        if self.versions.is_empty() {
            Version::V16
        } else {
            self.versions[i % self.versions.len()]
        }
    }

    /// The misbehaviours of station `i` that its version can commit.
    pub fn misbehaviours(&self, i: usize) -> Vec<Misbehave> {
        let id = self.identity(i);
        let v = self.version(i);
        self.misbehave
            .iter()
            .filter(|(t, m)| {
                m.applies_to(v)
                    && match t {
                        Target::All => true,
                        Target::Index(n) => *n == i,
                        Target::Identity(s) => *s == id,
                    }
            })
            .map(|(_, m)| *m)
            .collect()
    }

    /// The station URL: the base URL and the identity as last path segment.
    pub fn station_url(&self, i: usize) -> String {
        format!("{}/{}", self.url.trim_end_matches('/'), self.identity(i))
    }

    /// Checks what can be checked before connecting (URL scheme and form, counts).
    pub fn validate(&self) -> Result<()> {
        let url = self.url.as_str();
        if url.starts_with("wss://") {
            bail!("--url `{url}`: wss:// is not supported by the charger simulator yet; use ws://");
        }
        if !url.starts_with("ws://") {
            bail!(
                "--url `{url}`: the CSMS URL must start with ws:// (for example ws://127.0.0.1:9000/ocpp)"
            );
        }
        if let Err(e) = self.station_url(0).into_client_request() {
            bail!("--url `{url}`: not a usable WebSocket URL: {e}");
        }
        if self.count == 0 {
            bail!("--count must be at least 1");
        }
        if self.connectors == 0 {
            bail!("--connectors must be at least 1");
        }
        Ok(())
    }
}

/// Resolves once `rx` says stop (or its sender is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await.map(|_| ());
}

/// What a fleet did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetReport {
    pub stations: usize,
    /// Accepted boots (reboots included).
    pub boots: u64,
    /// Charging sessions completed.
    pub sessions: u64,
    /// Reconnections after a drop or a reset.
    pub reconnects: u64,
    /// One line per station that gave up (`identity: why`).
    pub failures: Vec<String>,
}

/// Runs the fleet until every station is done (`sessions`) or `shutdown` turns true.
pub async fn run_fleet(cfg: FleetConfig, shutdown: watch::Receiver<bool>) -> Result<FleetReport> {
    cfg.validate()?;
    let cfg = Arc::new(cfg);
    let mut set = JoinSet::new();
    for i in 0..cfg.count {
        let st = Station::new(cfg.clone(), i, shutdown.clone());
        let delay = cfg
            .ramp
            .saturating_mul(u32::try_from(i).unwrap_or(u32::MAX));
        set.spawn(async move {
            let mut st = st;
            if !delay.is_zero() {
                let mut sd = st.shutdown.clone();
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stopped(&mut sd) => return st.outcome(),
                }
            }
            st.run().await;
            st.outcome()
        });
    }
    let mut report = FleetReport {
        stations: cfg.count,
        ..FleetReport::default()
    };
    while let Some(r) = set.join_next().await {
        match r {
            Ok(o) => {
                report.boots += o.boots;
                report.sessions += o.sessions;
                report.reconnects += o.reconnects;
                report.failures.extend(o.failure);
            }
            Err(e) => report
                .failures
                .push(format!("a station task ended abnormally: {e}")),
        }
    }
    report.failures.sort();
    Ok(report)
}

struct Outcome {
    boots: u64,
    sessions: u64,
    reconnects: u64,
    failure: Option<String>,
}

type WsLink = Link<MaybeTlsStream<TcpStream>>;

/// Why a connection's flow stopped.
#[derive(Debug)]
enum Stop {
    Shutdown,
    Done,
    Reboot,
    Link(String),
}

/// A running transaction.
#[derive(Debug, Clone)]
struct Tx {
    connector: u32,
    id16: i64,
    id2: String,
    seq: u64,
    tag: String,
    meter_start: u64,
}

#[derive(Debug, Clone)]
enum Pending {
    RemoteStart {
        connector: u32,
        tag: String,
        remote_start_id: Option<i64>,
    },
    RemoteStop,
    Reset {
        hard: bool,
        on_idle: bool,
    },
    Trigger {
        what: String,
        connector: Option<u32>,
    },
}

/// A configuration key (1.6) or variable (2.x, `Component/Variable`).
#[derive(Debug, Clone)]
struct Setting {
    value: String,
    writable: bool,
}

const NEVER_STARTED_TX: i64 = 987_654_321;

struct Station {
    cfg: Arc<FleetConfig>,
    identity: Arc<str>,
    v: Version,
    url: String,
    info: StationInfo,
    faults: Vec<Misbehave>,
    injected: bool,
    session_faults_done: bool,
    answer_fault_done: bool,
    shutdown: watch::Receiver<bool>,
    next_id: u64,
    register_wh: u64,
    heartbeat: Duration,
    last_sent: Instant,
    tx: Option<Tx>,
    tx_counter: u64,
    pending: VecDeque<Pending>,
    boot_reason: &'static str,
    settings: HashMap<String, Setting>,
    boots: u64,
    sessions: u64,
    reconnects: u64,
    failure: Option<String>,
}

impl Station {
    fn new(cfg: Arc<FleetConfig>, i: usize, shutdown: watch::Receiver<bool>) -> Station {
        let identity: Arc<str> = Arc::from(cfg.identity(i).as_str());
        let v = cfg.version(i);
        let interval = cfg.pace.meter_interval.as_secs().to_string();
        let mut settings = HashMap::new();
        let mut put = |k: &str, val: &str, writable: bool| {
            settings.insert(
                k.to_owned(),
                Setting {
                    value: val.to_owned(),
                    writable,
                },
            );
        };
        if v.is_2x() {
            put("OCPPCommCtrlr/HeartbeatInterval", "300", true);
            put("SampledDataCtrlr/TxUpdatedInterval", &interval, true);
            put("AuthCtrlr/AuthorizeRemoteStart", "false", true);
            put("ClockCtrlr/DateTime", "", false);
        } else {
            put("HeartbeatInterval", "300", true);
            put("MeterValueSampleInterval", &interval, true);
            put("NumberOfConnectors", &cfg.connectors.to_string(), false);
            put("AuthorizeRemoteTxRequests", "false", true);
            put("GetConfigurationMaxKeys", "20", false);
            put("SupportedFeatureProfiles", "Core,RemoteTrigger", false);
        }
        Station {
            url: cfg.station_url(i),
            faults: cfg.misbehaviours(i),
            info: StationInfo {
                vendor: "OcppInspectorSim".into(),
                model: "SimCharger".into(),
                serial: format!("SIM-{identity}"),
                firmware: env!("CARGO_PKG_VERSION").into(),
            },
            identity,
            v,
            cfg,
            injected: false,
            session_faults_done: false,
            answer_fault_done: false,
            shutdown,
            next_id: 1,
            register_wh: 1000,
            heartbeat: Duration::from_secs(300),
            last_sent: Instant::now(),
            tx: None,
            tx_counter: 0,
            pending: VecDeque::new(),
            boot_reason: "PowerUp",
            settings,
            boots: 0,
            sessions: 0,
            reconnects: 0,
            failure: None,
        }
    }

    fn outcome(&self) -> Outcome {
        Outcome {
            boots: self.boots,
            sessions: self.sessions,
            reconnects: self.reconnects,
            failure: self.failure.clone(),
        }
    }

    fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    fn done(&self) -> bool {
        self.cfg
            .sessions
            .is_some_and(|n| self.sessions >= u64::from(n))
    }

    fn has(&self, m: Misbehave) -> bool {
        self.faults.contains(&m)
    }

    /// Connect, live, reconnect: until done, shutdown, or too many failed attempts.
    async fn run(&mut self) {
        let mut failed = 0u32;
        let mut connected_once = false;
        loop {
            if self.stopping() {
                return;
            }
            match self.connect().await {
                Ok(mut link) => {
                    if connected_once {
                        self.reconnects += 1;
                    }
                    connected_once = true;
                    failed = 0;
                    let stop = self.live(&mut link).await;
                    match stop {
                        Stop::Shutdown | Stop::Done => {
                            link.close(1000).await;
                            self.note_tap(&link);
                            return;
                        }
                        Stop::Reboot => {
                            link.close(1000).await;
                            self.note_tap(&link);
                            self.boot_reason = "RemoteReset";
                            continue;
                        }
                        Stop::Link(why) => {
                            link.abandon();
                            self.note_tap(&link);
                            failed += 1;
                            if failed > self.cfg.reconnect_attempts {
                                self.failure = Some(format!("{}: {why}", self.identity));
                                return;
                            }
                        }
                    }
                }
                Err(why) => {
                    failed += 1;
                    if failed > self.cfg.reconnect_attempts {
                        self.failure = Some(format!(
                            "{}: gave up after {failed} attempts: {why}",
                            self.identity
                        ));
                        return;
                    }
                }
            }
            let delay = self.cfg.pace.backoff.saturating_mul(1 << failed.min(5));
            let mut sd = self.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = stopped(&mut sd) => return,
            }
        }
    }

    fn note_tap(&mut self, link: &WsLink) {
        if let Some(e) = &link.tap_error
            && self.failure.is_none()
        {
            self.failure = Some(format!("{}: {e}", self.identity));
        }
    }

    async fn connect(&mut self) -> Result<WsLink, String> {
        let mut req = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| format!("bad URL {}: {e}", self.url))?;
        req.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static(self.v.subprotocol()),
        );
        let attempt = tokio_tungstenite::connect_async_with_config(req, Some(ws_config()), true);
        let (ws, resp) = match tokio::time::timeout(self.cfg.pace.call_timeout, attempt).await {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return Err(format!("cannot connect to {}: {e}", self.url)),
            Err(_) => return Err(format!("cannot connect to {}: timed out", self.url)),
        };
        let sub = resp
            .headers()
            .get("Sec-WebSocket-Protocol")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if sub != self.v.subprotocol() {
            return Err(format!(
                "{} answered subprotocol `{sub}`, not {}",
                self.url,
                self.v.subprotocol()
            ));
        }
        Ok(Link::open(
            ws,
            self.identity.clone(),
            Side::Charger,
            self.v.subprotocol(),
            self.cfg.record.clone(),
        ))
    }

    /// One connection's life: boot, status, faults, sessions.
    async fn live(&mut self, link: &mut WsLink) -> Stop {
        match self.live_inner(link).await {
            Ok(()) => Stop::Done,
            Err(s) => s,
        }
    }

    async fn live_inner(&mut self, link: &mut WsLink) -> Result<(), Stop> {
        self.boot(link).await?;
        let ts = now();
        if self.v == Version::V16 {
            self.status(link, 0, ConnStatus::Available, &ts).await?;
        }
        let busy = self.tx.as_ref().map(|t| t.connector);
        for c in 1..=self.cfg.connectors {
            let st = if busy == Some(c) {
                ConnStatus::Charging
            } else {
                ConnStatus::Available
            };
            self.status(link, c, st, &ts).await?;
        }
        if self.tx.is_some() {
            // The connection dropped mid-session: the session ends now.
            self.stop_tx(link, "PowerLoss").await?;
        }
        if !self.injected {
            self.injected = true;
            for m in self.faults.clone() {
                self.inject(link, m).await?;
            }
        }
        loop {
            while let Some(p) = self.pending.pop_front() {
                self.act(link, p).await?;
            }
            if self.done() {
                return Ok(());
            }
            if self.cfg.local_sessions {
                self.wait(link, self.cfg.pace.idle).await?;
                if self.pending.is_empty() {
                    self.session(link, None).await?;
                }
            } else {
                self.wait(link, Duration::from_secs(3600)).await?;
            }
        }
    }

    async fn act(&mut self, link: &mut WsLink, p: Pending) -> Result<(), Stop> {
        match p {
            Pending::RemoteStart {
                connector,
                tag,
                remote_start_id,
            } => {
                if self.tx.is_none() {
                    self.session(link, Some((connector, tag, remote_start_id)))
                        .await?;
                }
            }
            Pending::RemoteStop => {}
            Pending::Reset { .. } => {
                if self.tx.is_some() {
                    let reason = self.reset_reason(true);
                    self.stop_tx(link, reason).await?;
                }
                return Err(Stop::Reboot);
            }
            Pending::Trigger { what, connector } => self.triggered(link, &what, connector).await?,
        }
        Ok(())
    }

    fn reset_reason(&self, hard: bool) -> &'static str {
        match (self.v.is_2x(), hard) {
            (true, _) => "ImmediateReset",
            (false, true) => "HardReset",
            (false, false) => "SoftReset",
        }
    }

    fn new_id(&mut self) -> String {
        let id = self.next_id;
        self.next_id += 1;
        id.to_string()
    }

    async fn send(&mut self, link: &mut WsLink, text: String) -> Result<(), Stop> {
        self.last_sent = Instant::now();
        link.send(text).await.map_err(|e| Stop::Link(e.to_string()))
    }

    /// Sends a CALL and waits for its answer (`None`: a CALLERROR), answering the CSMS's
    /// own calls meanwhile.
    async fn call(
        &mut self,
        link: &mut WsLink,
        action: &str,
        payload: Value,
    ) -> Result<Option<Value>, Stop> {
        let id = self.new_id();
        self.send(link, call_text(&id, action, &payload)).await?;
        self.reply(link, &id).await
    }

    async fn reply(&mut self, link: &mut WsLink, id: &str) -> Result<Option<Value>, Stop> {
        let deadline = Instant::now() + self.cfg.pace.call_timeout;
        let mut sd = self.shutdown.clone();
        loop {
            let text = tokio::select! {
                _ = stopped(&mut sd) => return Err(Stop::Shutdown),
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(Stop::Link(format!("no answer to CALL {id} within {:?}", self.cfg.pace.call_timeout)));
                }
                r = link.recv() => r.map_err(|e| Stop::Link(e.to_string()))?,
            };
            match Rpc::parse(&text) {
                Rpc::Result { id: got, payload } if got == id => return Ok(Some(payload)),
                Rpc::Error { id: got, .. } if got == id => return Ok(None),
                Rpc::Call {
                    id,
                    action,
                    payload,
                } => self.on_call(link, &id, &action, &payload).await?,
                _ => {}
            }
        }
    }

    /// Waits `dur` while answering the CSMS and heartbeating; returns early when the CSMS
    /// asked for something (a pending action).
    async fn wait(&mut self, link: &mut WsLink, dur: Duration) -> Result<(), Stop> {
        let deadline = Instant::now() + dur;
        let mut sd = self.shutdown.clone();
        loop {
            // Triggered messages go out at once, even mid-session.
            while let Some(pos) = self
                .pending
                .iter()
                .position(|p| matches!(p, Pending::Trigger { .. }))
            {
                if let Some(Pending::Trigger { what, connector }) = self.pending.remove(pos) {
                    self.triggered(link, &what, connector).await?;
                }
            }
            if self.urgent() {
                return Ok(());
            }
            let beat = self.last_sent + self.heartbeat;
            let text = tokio::select! {
                _ = stopped(&mut sd) => return Err(Stop::Shutdown),
                _ = tokio::time::sleep_until(deadline) => return Ok(()),
                _ = tokio::time::sleep_until(beat) => {
                    self.call(link, "Heartbeat", json!({})).await?;
                    continue;
                }
                r = link.recv() => r.map_err(|e| Stop::Link(e.to_string()))?,
            };
            if let Rpc::Call {
                id,
                action,
                payload,
            } = Rpc::parse(&text)
            {
                self.on_call(link, &id, &action, &payload).await?;
            }
        }
    }

    /// Whether something pending needs the flow now (a reset deferred to the end of the
    /// session does not).
    fn urgent(&self) -> bool {
        self.pending
            .iter()
            .any(|p| !matches!(p, Pending::Reset { on_idle: true, .. }))
    }

    async fn boot(&mut self, link: &mut WsLink) -> Result<(), Stop> {
        for _ in 0..5 {
            let p = msg::boot(self.v, &self.info, self.boot_reason);
            let r = self.call(link, "BootNotification", p).await?;
            let r = r.unwrap_or(Value::Null);
            let interval = r.get("interval").and_then(Value::as_u64).unwrap_or(300);
            if r.get("status").and_then(Value::as_str) == Some("Accepted") {
                if interval > 0 {
                    self.heartbeat = Duration::from_secs(interval);
                }
                self.boots += 1;
                if self.v.is_2x() {
                    // 2.x lists the start-up (or reboot) as a critical security event.
                    let kind = if self.boot_reason == "PowerUp" {
                        "StartupOfTheDevice"
                    } else {
                        "ResetOrReboot"
                    };
                    let p = json!({ "type": kind, "timestamp": crate::sim::now() });
                    self.call(link, "SecurityEventNotification", p).await?;
                }
                self.boot_reason = "PowerUp";
                return Ok(());
            }
            // Pending or Rejected: try again after the interval the CSMS gave.
            let mut sd = self.shutdown.clone();
            tokio::select! {
                _ = stopped(&mut sd) => return Err(Stop::Shutdown),
                _ = tokio::time::sleep(Duration::from_secs(interval.clamp(1, 60))) => {}
            }
        }
        Err(Stop::Link(
            "the CSMS did not accept the BootNotification".into(),
        ))
    }

    async fn status(
        &mut self,
        link: &mut WsLink,
        connector: u32,
        st: ConnStatus,
        ts: &str,
    ) -> Result<(), Stop> {
        let p = msg::status(self.v, connector, st, ts);
        self.call(link, "StatusNotification", p).await?;
        Ok(())
    }

    /// The current status of a connector.
    fn status_of(&self, connector: u32) -> ConnStatus {
        match &self.tx {
            Some(t) if t.connector == connector => ConnStatus::Charging,
            _ => ConnStatus::Available,
        }
    }

    fn meter(&self, context: &str) -> Value {
        msg::meter_value(self.v, &now(), self.register_wh, 7400, context)
    }

    /// One charging session, started locally (`None`) or by the CSMS.
    async fn session(
        &mut self,
        link: &mut WsLink,
        remote: Option<(u32, String, Option<i64>)>,
    ) -> Result<(), Stop> {
        let is_remote = remote.is_some();
        let (connector, tag, remote_start_id) =
            remote.unwrap_or((1, format!("TAG-{}", self.identity), None));
        let connector = connector.clamp(1, self.cfg.connectors);
        if !is_remote {
            self.call(link, "Authorize", msg::authorize(self.v, &tag))
                .await?;
        }
        self.status(link, connector, ConnStatus::Preparing, &now())
            .await?;
        self.tx_counter += 1;
        let mut tx = Tx {
            connector,
            id16: 0,
            id2: {
                let mut h = DefaultHasher::new();
                self.identity.hash(&mut h);
                format!("{:016x}-{}", h.finish(), self.tx_counter)
            },
            seq: 0,
            tag: tag.clone(),
            meter_start: self.register_wh,
        };
        if self.v == Version::V16 {
            let p = msg::start_transaction(connector, &tag, self.register_wh, &now());
            let r = self.call(link, "StartTransaction", p).await?;
            let Some(id) = r.and_then(|r| r.get("transactionId").and_then(Value::as_i64)) else {
                // No transaction: back to Available.
                self.status(link, connector, ConnStatus::Finishing, &now())
                    .await?;
                self.status(link, connector, ConnStatus::Available, &now())
                    .await?;
                return Ok(());
            };
            tx.id16 = id;
            self.tx = Some(tx);
            self.status(link, connector, ConnStatus::Charging, &now())
                .await?;
        } else {
            let mv = self.meter("Transaction.Begin");
            let ts = now();
            let e = TxEvent {
                event: "Started",
                trigger: if is_remote {
                    "RemoteStart"
                } else {
                    "Authorized"
                },
                seq_no: 0,
                tx_id: &tx.id2,
                charging_state: Some("Charging"),
                evse: connector,
                id_tag: Some(&tag),
                remote_start_id,
                stopped_reason: None,
                meter_value: Some(mv),
                ts: &ts,
            };
            let p = msg::transaction_event(&e);
            tx.seq = 1;
            self.tx = Some(tx);
            self.call(link, "TransactionEvent", p).await?;
        }
        let mut reason = "Local";
        for _ in 0..self.cfg.pace.samples {
            self.wait(link, self.cfg.pace.meter_interval).await?;
            if let Some(r) = self.interrupting() {
                reason = r;
                break;
            }
            let secs = self.cfg.pace.meter_interval.as_secs_f64();
            self.register_wh += ((7400.0 * secs / 3600.0) as u64).max(1);
            self.meter_sample(link).await?;
        }
        // One more look: a stop or reset may have come in during the last sample.
        if reason == "Local"
            && let Some(r) = self.interrupting()
        {
            reason = r;
        }
        self.stop_tx(link, reason).await?;
        self.sessions += 1;
        Ok(())
    }

    /// A queued remote stop or reset that ends the running session now, as a stop reason.
    fn interrupting(&mut self) -> Option<&'static str> {
        let pos = self.pending.iter().position(|p| {
            matches!(
                p,
                Pending::RemoteStop | Pending::Reset { on_idle: false, .. }
            )
        })?;
        match self.pending.get(pos)? {
            Pending::RemoteStop => {
                self.pending.remove(pos);
                Some("Remote")
            }
            Pending::Reset { hard, .. } => Some(self.reset_reason(*hard)),
            _ => None,
        }
    }

    async fn meter_sample(&mut self, link: &mut WsLink) -> Result<(), Stop> {
        let Some(tx) = self.tx.clone() else {
            return Ok(());
        };
        if self.v == Version::V16 {
            let p = msg::meter_values(
                self.v,
                tx.connector,
                Some(tx.id16),
                self.meter("Sample.Periodic"),
            );
            self.call(link, "MeterValues", p).await?;
        } else {
            let ts = now();
            let e = TxEvent {
                event: "Updated",
                trigger: "MeterValuePeriodic",
                seq_no: tx.seq,
                tx_id: &tx.id2,
                charging_state: None,
                evse: tx.connector,
                id_tag: None,
                remote_start_id: None,
                stopped_reason: None,
                meter_value: Some(self.meter("Sample.Periodic")),
                ts: &ts,
            };
            let p = msg::transaction_event(&e);
            if let Some(t) = self.tx.as_mut() {
                t.seq += 1;
            }
            self.call(link, "TransactionEvent", p).await?;
        }
        Ok(())
    }

    /// Ends the running transaction with `reason` and frees its connector.
    async fn stop_tx(&mut self, link: &mut WsLink, reason: &str) -> Result<(), Stop> {
        let Some(tx) = self.tx.clone() else {
            return Ok(());
        };
        let local = reason == "Local";
        let ts = now();
        if self.v == Version::V16 {
            let mut meter_stop = self.register_wh;
            let faulty = !self.session_faults_done;
            if faulty && self.has(Misbehave::MeterStopBelowStart) {
                meter_stop = tx.meter_start.saturating_sub(1);
            }
            let tag = local.then_some(tx.tag.as_str());
            let p = msg::stop_transaction(tx.id16, tag, meter_stop, &ts, reason);
            // Stopped from now on: a remote stop that crosses this StopTransaction is for a
            // transaction that no longer runs, and is rejected.
            self.tx = None;
            self.call(link, "StopTransaction", p.clone()).await?;
            if faulty && self.has(Misbehave::StopTwice) {
                self.call(link, "StopTransaction", p).await?;
            }
            self.session_faults_done = true;
            self.status(link, tx.connector, ConnStatus::Finishing, &now())
                .await?;
        } else {
            let trigger = match reason {
                "Local" => "StopAuthorized",
                "Remote" => "RemoteStop",
                "ImmediateReset" => "ResetCommand",
                _ => "AbnormalCondition",
            };
            let e = TxEvent {
                event: "Ended",
                trigger,
                seq_no: tx.seq,
                tx_id: &tx.id2,
                charging_state: Some("EVConnected"),
                evse: tx.connector,
                id_tag: local.then_some(tx.tag.as_str()),
                remote_start_id: None,
                stopped_reason: Some(reason),
                meter_value: Some(self.meter("Transaction.End")),
                ts: &ts,
            };
            let p = msg::transaction_event(&e);
            self.tx = None;
            self.call(link, "TransactionEvent", p).await?;
        }
        self.status(link, tx.connector, ConnStatus::Available, &now())
            .await
    }

    /// Sends what a TriggerMessage asked for.
    async fn triggered(
        &mut self,
        link: &mut WsLink,
        what: &str,
        connector: Option<u32>,
    ) -> Result<(), Stop> {
        match what {
            "Heartbeat" => {
                self.call(link, "Heartbeat", json!({})).await?;
            }
            "BootNotification" => {
                let p = msg::boot(self.v, &self.info, "Triggered");
                self.call(link, "BootNotification", p).await?;
            }
            "StatusNotification" => {
                let ts = now();
                let all: Vec<u32> = match connector {
                    Some(c) => vec![c],
                    None => (1..=self.cfg.connectors).collect(),
                };
                for c in all {
                    let st = self.status_of(c);
                    self.status(link, c, st, &ts).await?;
                }
            }
            "MeterValues" => {
                let c = self
                    .tx
                    .as_ref()
                    .map(|t| t.connector)
                    .or(connector)
                    .unwrap_or(1);
                let tx = if self.v == Version::V16 {
                    self.tx.as_ref().map(|t| t.id16)
                } else {
                    None
                };
                let p = msg::meter_values(self.v, c, tx, self.meter("Trigger"));
                self.call(link, "MeterValues", p).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Answers one CALL of the CSMS; effects are queued as pending actions.
    async fn on_call(
        &mut self,
        link: &mut WsLink,
        id: &str,
        action: &str,
        p: &Value,
    ) -> Result<(), Stop> {
        let answer = if self.v.is_2x() {
            self.answer_2x(action, p)
        } else {
            self.answer_16(action, p)
        };
        let text = match answer {
            Ok(payload) => result_text(id, &payload),
            Err(code) => error_text(id, code, "not supported by the simulated charger"),
        };
        self.send(link, text).await
    }

    fn status_json(accepted: bool) -> Value {
        json!({"status": if accepted { "Accepted" } else { "Rejected" }})
    }

    /// The one-time fault in a configuration answer, if this station has one left.
    fn answer_fault(&mut self, kinds: &[Misbehave]) -> Option<Misbehave> {
        if self.answer_fault_done {
            return None;
        }
        let m = kinds.iter().copied().find(|m| self.faults.contains(m))?;
        self.answer_fault_done = true;
        Some(m)
    }

    fn answer_16(&mut self, action: &str, p: &Value) -> Result<Value, &'static str> {
        let str_of = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(match action {
            "RemoteStartTransaction" => {
                let connector = p.get("connectorId").and_then(Value::as_u64).unwrap_or(1);
                let ok = self.tx.is_none()
                    && !self.pending_start()
                    && (1..=u64::from(self.cfg.connectors)).contains(&connector);
                if ok {
                    self.pending.push_back(Pending::RemoteStart {
                        connector: u32::try_from(connector).unwrap_or(1),
                        tag: str_of("idTag").unwrap_or_default(),
                        remote_start_id: None,
                    });
                }
                Self::status_json(ok)
            }
            "RemoteStopTransaction" => {
                let want = p.get("transactionId").and_then(Value::as_i64);
                let ok = self.tx.as_ref().is_some_and(|t| Some(t.id16) == want);
                if ok {
                    self.pending.push_back(Pending::RemoteStop);
                }
                Self::status_json(ok)
            }
            "Reset" => {
                let hard = str_of("type").as_deref() == Some("Hard");
                self.pending.push_back(Pending::Reset {
                    hard,
                    on_idle: false,
                });
                Self::status_json(true)
            }
            "TriggerMessage" => self.trigger_answer(p),
            "GetConfiguration" => {
                match self.answer_fault(&[
                    Misbehave::BadResponse,
                    Misbehave::UnknownErrorCode,
                    Misbehave::ConfigKeyUnaccounted,
                ]) {
                    Some(Misbehave::BadResponse) => {
                        return Ok(
                            json!({"configurationKey": [{"key": "HeartbeatInterval", "readonly": "no"}]}),
                        );
                    }
                    Some(Misbehave::UnknownErrorCode) => return Err("ChargerOnFire"),
                    Some(_) => return Ok(json!({"configurationKey": [], "unknownKey": []})),
                    None => {}
                }
                let asked: Vec<String> = p
                    .get("key")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|k| k.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut keys: Vec<&String> = if asked.is_empty() {
                    let mut all: Vec<&String> = self.settings.keys().collect();
                    all.sort();
                    all
                } else {
                    asked.iter().collect()
                };
                keys.dedup();
                let mut known = Vec::new();
                let mut unknown = Vec::new();
                for k in keys {
                    match self.settings.get(k.as_str()) {
                        Some(s) => {
                            known.push(json!({"key": k, "readonly": !s.writable, "value": s.value}))
                        }
                        None => unknown.push(json!(k)),
                    }
                }
                let mut out = json!({ "configurationKey": known });
                if !unknown.is_empty()
                    && let Some(o) = out.as_object_mut()
                {
                    o.insert("unknownKey".into(), Value::Array(unknown));
                }
                out
            }
            "ChangeConfiguration" => {
                let key = str_of("key").unwrap_or_default();
                let value = str_of("value").unwrap_or_default();
                let status = match self.settings.get_mut(&key) {
                    Some(s) if s.writable => {
                        s.value = value;
                        "Accepted"
                    }
                    Some(_) => "Rejected",
                    None => "NotSupported",
                };
                json!({ "status": status })
            }
            _ => return Err("NotImplemented"),
        })
    }

    fn pending_start(&self) -> bool {
        self.pending
            .iter()
            .any(|p| matches!(p, Pending::RemoteStart { .. }))
    }

    fn trigger_answer(&mut self, p: &Value) -> Value {
        let what = p
            .get("requestedMessage")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let connector = if self.v.is_2x() {
            p.pointer("/evse/id").and_then(Value::as_u64)
        } else {
            p.get("connectorId").and_then(Value::as_u64)
        }
        .and_then(|c| u32::try_from(c).ok())
        .filter(|c| (1..=self.cfg.connectors).contains(c));
        let status = match what.as_str() {
            "BootNotification" if self.v.is_2x() => "Rejected",
            "Heartbeat" | "StatusNotification" | "BootNotification" | "MeterValues" => {
                self.pending.push_back(Pending::Trigger { what, connector });
                "Accepted"
            }
            _ => "NotImplemented",
        };
        json!({ "status": status })
    }

    fn answer_2x(&mut self, action: &str, p: &Value) -> Result<Value, &'static str> {
        Ok(match action {
            "RequestStartTransaction" => {
                let evse = p.get("evseId").and_then(Value::as_u64).unwrap_or(1);
                let ok = self.tx.is_none()
                    && !self.pending_start()
                    && (1..=u64::from(self.cfg.connectors)).contains(&evse);
                if ok {
                    self.pending.push_back(Pending::RemoteStart {
                        connector: u32::try_from(evse).unwrap_or(1),
                        tag: p
                            .pointer("/idToken/idToken")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        remote_start_id: p.get("remoteStartId").and_then(Value::as_i64),
                    });
                }
                Self::status_json(ok)
            }
            "RequestStopTransaction" => {
                let want = p.get("transactionId").and_then(Value::as_str);
                let ok = self
                    .tx
                    .as_ref()
                    .is_some_and(|t| Some(t.id2.as_str()) == want);
                if ok {
                    self.pending.push_back(Pending::RemoteStop);
                }
                Self::status_json(ok)
            }
            "Reset" => {
                if p.get("evseId").is_some() {
                    return Ok(Self::status_json(false));
                }
                let on_idle = p.get("type").and_then(Value::as_str) == Some("OnIdle");
                let status = if on_idle && self.tx.is_some() {
                    "Scheduled"
                } else {
                    "Accepted"
                };
                // OnIdle with nothing running is an immediate reset.
                self.pending.push_back(Pending::Reset {
                    hard: !on_idle,
                    on_idle: on_idle && self.tx.is_some(),
                });
                json!({ "status": status })
            }
            "TriggerMessage" => self.trigger_answer(p),
            "GetVariables" => {
                let fault = self.answer_fault(&[
                    Misbehave::BadResponse,
                    Misbehave::UnknownErrorCode,
                    Misbehave::GetVariablesCountMismatch,
                ]);
                if fault == Some(Misbehave::UnknownErrorCode) {
                    return Err("ChargerOnFire");
                }
                let mut results: Vec<Value> = entries(p, "getVariableData")
                    .map(|(e, key)| {
                        let mut r = mirror(e);
                        let status = match self.settings.get(&key) {
                            Some(s) => {
                                r.insert("attributeValue".into(), json!(s.value));
                                "Accepted"
                            }
                            None if self
                                .settings
                                .keys()
                                .any(|k| k.starts_with(&component_prefix(&key))) =>
                            {
                                "UnknownVariable"
                            }
                            None => "UnknownComponent",
                        };
                        r.insert("attributeStatus".into(), json!(status));
                        Value::Object(r)
                    })
                    .collect();
                match fault {
                    Some(Misbehave::BadResponse) => {
                        for r in &mut results {
                            if let Some(o) = r.as_object_mut() {
                                o.insert("attributeStatus".into(), json!("Fine"));
                            }
                        }
                    }
                    Some(Misbehave::GetVariablesCountMismatch) => {
                        results.pop();
                    }
                    _ => {}
                }
                json!({ "getVariableResult": results })
            }
            "SetVariables" => {
                let mut results = Vec::new();
                for (e, key) in entries(p, "setVariableData") {
                    let value = e
                        .get("attributeValue")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let mut r = mirror(e);
                    let status = match self.settings.get_mut(&key) {
                        Some(s) if s.writable => {
                            s.value = value;
                            "Accepted"
                        }
                        Some(_) => "Rejected",
                        None => "UnknownVariable",
                    };
                    r.insert("attributeStatus".into(), json!(status));
                    results.push(Value::Object(r));
                }
                json!({ "setVariableResult": results })
            }
            _ => return Err("NotImplemented"),
        })
    }

    /// Commits one pre-session fault.
    async fn inject(&mut self, link: &mut WsLink, m: Misbehave) -> Result<(), Stop> {
        let v = self.v;
        let v16 = v == Version::V16;
        match m {
            Misbehave::NotJson => {
                let id = self.new_id();
                self.send(link, format!("[2,\"{id}\",\"Heartbeat\",{{"))
                    .await?;
            }
            Misbehave::NotArray => {
                self.send(link, r#"{"action":"Heartbeat"}"#.into()).await?;
            }
            Misbehave::EmptyFrame => self.send(link, String::new()).await?,
            Misbehave::BinaryFrame => {
                let id = self.new_id();
                let text = call_text(&id, "Heartbeat", &json!({}));
                self.last_sent = Instant::now();
                link.send_binary(text.into_bytes())
                    .await
                    .map_err(|e| Stop::Link(e.to_string()))?;
            }
            Misbehave::UnknownAction => {
                self.call(link, "FlyToTheMoon", json!({})).await?;
            }
            Misbehave::ActionSuffix => {
                self.call(link, "HeartbeatRequest", json!({})).await?;
            }
            Misbehave::ActionCase => {
                self.call(link, "heartbeat", json!({})).await?;
            }
            Misbehave::LongMessageId => {
                let id = "x".repeat(40);
                self.send(link, call_text(&id, "Heartbeat", &json!({})))
                    .await?;
                self.reply(link, &id).await?;
            }
            Misbehave::DuplicateId => {
                let id = self.new_id();
                let text = call_text(&id, "Heartbeat", &json!({}));
                self.send(link, text.clone()).await?;
                self.send(link, text).await?;
                self.reply(link, &id).await?;
                self.reply(link, &id).await?;
            }
            Misbehave::UnknownResponseId => {
                self.send(link, result_text("no-such-call", &json!({})))
                    .await?;
            }
            Misbehave::WrongType => {
                let p = if v16 {
                    json!({"idTag": 12345})
                } else {
                    json!({"idToken": {"idToken": 12345, "type": "ISO14443"}})
                };
                self.call(link, "Authorize", p).await?;
            }
            Misbehave::BadEnum | Misbehave::EnumCase | Misbehave::BadDatetime => {
                let mut p = msg::status(v, 1, ConnStatus::Available, &now());
                let field = if v16 { "status" } else { "connectorStatus" };
                if let Some(o) = p.as_object_mut() {
                    match m {
                        Misbehave::BadEnum => {
                            o.insert(field.into(), json!("Free"));
                        }
                        Misbehave::EnumCase => {
                            o.insert(field.into(), json!("available"));
                        }
                        _ => {
                            let ts = now();
                            o.insert("timestamp".into(), json!(ts.trim_end_matches('Z')));
                        }
                    }
                }
                self.call(link, "StatusNotification", p).await?;
            }
            Misbehave::CustomDataOn16 => {
                self.call(
                    link,
                    "Heartbeat",
                    json!({"customData": {"vendorId": "sim"}}),
                )
                .await?;
            }
            Misbehave::WrongDirection => {
                let ty = if v16 { "Soft" } else { "Immediate" };
                self.call(link, "Reset", json!({ "type": ty })).await?;
            }
            Misbehave::OtherVersionAction => {
                if v16 {
                    self.call(link, "NotifyEvent", json!({})).await?;
                } else {
                    let p = msg::start_transaction(1, "TAG", self.register_wh, &now());
                    self.call(link, "StartTransaction", p).await?;
                }
            }
            Misbehave::UnknownTransaction => {
                let p = msg::stop_transaction(
                    NEVER_STARTED_TX,
                    None,
                    self.register_wh,
                    &now(),
                    "Other",
                );
                self.call(link, "StopTransaction", p).await?;
            }
            Misbehave::MeterValuesUnknownTx => {
                let p =
                    msg::meter_values(v, 1, Some(NEVER_STARTED_TX), self.meter("Sample.Periodic"));
                self.call(link, "MeterValues", p).await?;
            }
            Misbehave::ForbiddenTransition => {
                self.status(link, 1, ConnStatus::Finishing, &now()).await?;
                self.status(link, 1, ConnStatus::Available, &now()).await?;
            }
            Misbehave::Connector0Status => {
                self.status(link, 0, ConnStatus::Charging, &now()).await?;
                self.status(link, 0, ConnStatus::Available, &now()).await?;
            }
            Misbehave::StartConnectorZero => {
                let tag = format!("TAG-{}", self.identity);
                let p = msg::start_transaction(0, &tag, self.register_wh, &now());
                let r = self.call(link, "StartTransaction", p).await?;
                if let Some(id) = r.and_then(|r| r.get("transactionId").and_then(Value::as_i64)) {
                    let p =
                        msg::stop_transaction(id, Some(&tag), self.register_wh, &now(), "Local");
                    self.call(link, "StopTransaction", p).await?;
                }
            }
            // Committed later: in the answer to the CSMS's configuration read, or at the end
            // of the first session.
            Misbehave::BadResponse
            | Misbehave::UnknownErrorCode
            | Misbehave::ConfigKeyUnaccounted
            | Misbehave::GetVariablesCountMismatch
            | Misbehave::MeterStopBelowStart
            | Misbehave::StopTwice => {}
        }
        Ok(())
    }
}

/// The entries of a GetVariables/SetVariables request with their `Component/Variable` key.
fn entries<'a>(p: &'a Value, member: &str) -> impl Iterator<Item = (&'a Value, String)> + 'a {
    p.get(member)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|e| {
            let c = e
                .pointer("/component/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let v = e
                .pointer("/variable/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            (e, format!("{c}/{v}"))
        })
}

/// A result entry echoing the request entry's component, variable and attribute type.
fn mirror(e: &Value) -> serde_json::Map<String, Value> {
    let mut r = serde_json::Map::new();
    for k in ["component", "variable", "attributeType"] {
        if let Some(x) = e.get(k) {
            r.insert(k.into(), x.clone());
        }
    }
    r
}

fn component_prefix(key: &str) -> String {
    match key.split_once('/') {
        Some((c, _)) => format!("{c}/"),
        None => key.to_owned(),
    }
}
