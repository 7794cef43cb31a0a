//! The simulated charger fleet: N stations, each a tokio task with its own identity (the last
//! URL path segment), that boot, report connector status, heartbeat, run charging sessions
//! with meter values at a configured pace, answer the CSMS's calls (remote start/stop, reset,
//! trigger message, configuration / variables) and reconnect with backoff after a drop.
//!
//! A station told to misbehave ([`Misbehave`]) commits its fault once, at a fixed point of its
//! flow, and otherwise behaves. Stations judge nothing the CSMS sends; they never panic on it.

mod answer;
mod connect;
mod flow;
mod inject;
mod station;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::Tap;
use super::auth::BasicAuth;
use super::misbehave::Misbehave;
use crate::ocpp::Version;
use station::Station;

/// How fast a station lives.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Time between meter values of a session.
    pub meter_interval: Duration,
    /// Meter values per session (the session length is `samples × meter_interval`; a session
    /// the CSMS started runs until the CSMS stops it, at most ten times that).
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
    /// For `wss://`: the CA that signed the CSMS's certificate (PEM); without it, the
    /// system's trusted CAs.
    pub ca: Option<PathBuf>,
    /// For `wss://`: the stations' client certificate and its key (PEM; security profile 3).
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// HTTP Basic credentials sent in the handshake (security profiles 1 and 2); an empty
    /// user sends each station's identity.
    pub basic_auth: Option<BasicAuth>,
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
            ca: None,
            cert: None,
            key: None,
            basic_auth: None,
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

    /// Checks what can be checked before connecting (URL scheme and form, TLS flags,
    /// counts). Messages never show a password.
    pub fn validate(&self) -> Result<()> {
        let url = self.url.as_str();
        let secure = url.starts_with("wss://");
        if !secure && !url.starts_with("ws://") {
            bail!(
                "--url `{url}`: the CSMS URL must start with ws:// or wss:// (for example ws://127.0.0.1:9000/ocpp)"
            );
        }
        let authority = url
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
            .unwrap_or_default();
        if authority.contains('@') {
            bail!(
                "--url carries credentials (user:password@ before the host; the URL is not shown): give them with --basic-auth USER:PASS"
            );
        }
        if !secure && (self.ca.is_some() || self.cert.is_some() || self.key.is_some()) {
            bail!("--url `{url}`: --ca, --cert and --key apply to a wss:// URL only");
        }
        if self.cert.is_some() != self.key.is_some() {
            bail!("--cert and --key go together (the client certificate and its private key)");
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
    let connector = Arc::new(connect::Connector::new(&cfg)?);
    let cfg = Arc::new(cfg);
    let mut set = JoinSet::new();
    for i in 0..cfg.count {
        let st = Station::new(cfg.clone(), connector.clone(), i, shutdown.clone());
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
