//! One simulated station: its state, its connection loop (connect, live, reconnect with
//! backoff) and the primitives the flow uses (send a CALL and wait for its answer, wait while
//! heartbeating and answering the CSMS). It judges nothing the CSMS sends.
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use super::connect::{ConnectError, Connector};
use super::{FleetConfig, stopped};
use crate::ocpp::{Side, Version};
use crate::sim::link::{Link, Rpc, call_text};
use crate::sim::misbehave::Misbehave;
use crate::sim::msg::{ConnStatus, StationInfo};
use crate::sim::now;
use crate::source::proxy::io::Io;

pub(super) struct Outcome {
    pub(super) boots: u64,
    pub(super) sessions: u64,
    pub(super) reconnects: u64,
    pub(super) failure: Option<String>,
}

pub(super) type WsLink = Link<Io>;

/// Why a connection's flow stopped.
#[derive(Debug)]
pub(super) enum Stop {
    Shutdown,
    Done,
    Reboot,
    Link(String),
}

/// A running transaction.
#[derive(Debug, Clone)]
pub(super) struct Tx {
    pub(super) connector: u32,
    pub(super) id16: i64,
    pub(super) id2: String,
    pub(super) seq: u64,
    pub(super) tag: String,
    pub(super) meter_start: u64,
}

#[derive(Debug, Clone)]
pub(super) enum Pending {
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
pub(super) struct Setting {
    pub(super) value: String,
    pub(super) writable: bool,
}

pub(super) const NEVER_STARTED_TX: i64 = 987_654_321;

pub(super) struct Station {
    pub(super) cfg: Arc<FleetConfig>,
    pub(super) connector: Arc<Connector>,
    pub(super) identity: Arc<str>,
    pub(super) v: Version,
    pub(super) url: String,
    pub(super) info: StationInfo,
    pub(super) faults: Vec<Misbehave>,
    pub(super) injected: bool,
    pub(super) session_faults_done: bool,
    pub(super) answer_fault_done: bool,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) next_id: u64,
    pub(super) register_wh: u64,
    pub(super) heartbeat: Duration,
    pub(super) last_sent: Instant,
    pub(super) tx: Option<Tx>,
    pub(super) tx_counter: u64,
    pub(super) pending: VecDeque<Pending>,
    pub(super) boot_reason: &'static str,
    pub(super) settings: HashMap<String, Setting>,
    pub(super) boots: u64,
    pub(super) sessions: u64,
    pub(super) reconnects: u64,
    pub(super) failure: Option<String>,
}

impl Station {
    pub(super) fn new(
        cfg: Arc<FleetConfig>,
        connector: Arc<Connector>,
        i: usize,
        shutdown: watch::Receiver<bool>,
    ) -> Station {
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
            connector,
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

    pub(super) fn outcome(&self) -> Outcome {
        Outcome {
            boots: self.boots,
            sessions: self.sessions,
            reconnects: self.reconnects,
            failure: self.failure.clone(),
        }
    }

    pub(super) fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub(super) fn done(&self) -> bool {
        self.cfg
            .sessions
            .is_some_and(|n| self.sessions >= u64::from(n))
    }

    pub(super) fn has(&self, m: Misbehave) -> bool {
        self.faults.contains(&m)
    }

    /// Connect, live, reconnect: until done, shutdown, or too many failed attempts.
    pub(super) async fn run(&mut self) {
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
                Err(e) if e.permanent => {
                    self.failure = Some(format!("{}: {}", self.identity, e.message));
                    return;
                }
                Err(e) => {
                    let why = e.message;
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

    pub(super) fn note_tap(&mut self, link: &WsLink) {
        if let Some(e) = &link.tap_error
            && self.failure.is_none()
        {
            self.failure = Some(format!("{}: {e}", self.identity));
        }
    }

    pub(super) async fn connect(&mut self) -> Result<WsLink, ConnectError> {
        let attempt = self.connector.connect(&self.url, &self.identity, self.v);
        let (ws, security) = match tokio::time::timeout(self.cfg.pace.call_timeout, attempt).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(ConnectError {
                    message: format!("cannot connect to {}: timed out", self.url),
                    permanent: false,
                });
            }
        };
        Ok(Link::open(
            ws,
            self.identity.clone(),
            Side::Charger,
            self.v.subprotocol(),
            &security,
            self.cfg.record.clone(),
        ))
    }

    /// One connection's life: boot, status, faults, sessions.
    pub(super) async fn live(&mut self, link: &mut WsLink) -> Stop {
        match self.live_inner(link).await {
            Ok(()) => Stop::Done,
            Err(s) => s,
        }
    }

    pub(super) async fn live_inner(&mut self, link: &mut WsLink) -> Result<(), Stop> {
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

    pub(super) async fn act(&mut self, link: &mut WsLink, p: Pending) -> Result<(), Stop> {
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

    pub(super) fn reset_reason(&self, hard: bool) -> &'static str {
        match (self.v.is_2x(), hard) {
            (true, _) => "ImmediateReset",
            (false, true) => "HardReset",
            (false, false) => "SoftReset",
        }
    }

    pub(super) fn new_id(&mut self) -> String {
        let id = self.next_id;
        self.next_id += 1;
        id.to_string()
    }

    pub(super) async fn send(&mut self, link: &mut WsLink, text: String) -> Result<(), Stop> {
        self.last_sent = Instant::now();
        link.send(text).await.map_err(|e| Stop::Link(e.to_string()))
    }

    /// Sends a CALL and waits for its answer (`None`: a CALLERROR), answering the CSMS's
    /// own calls meanwhile.
    pub(super) async fn call(
        &mut self,
        link: &mut WsLink,
        action: &str,
        payload: Value,
    ) -> Result<Option<Value>, Stop> {
        let id = self.new_id();
        self.send(link, call_text(&id, action, &payload)).await?;
        self.reply(link, &id).await
    }

    pub(super) async fn reply(
        &mut self,
        link: &mut WsLink,
        id: &str,
    ) -> Result<Option<Value>, Stop> {
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
    pub(super) async fn wait(&mut self, link: &mut WsLink, dur: Duration) -> Result<(), Stop> {
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
    pub(super) fn urgent(&self) -> bool {
        self.pending
            .iter()
            .any(|p| !matches!(p, Pending::Reset { on_idle: true, .. }))
    }
}
