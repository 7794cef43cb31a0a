//! `ocpp-inspector sim csms|charger`: runs the built-in CSMS or a charger fleet until Ctrl-C
//! (or, for a fleet, until every station has done its sessions), optionally recording the
//! traffic as a trace for `check`.

use std::fs::File;
use std::io::BufWriter;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tokio::sync::watch;

use super::args::ListenTlsArgs;
use super::exit;
use super::parse_version;
use crate::ocpp::Version;
use crate::sim::auth::{BasicAuth, Credentials, SecretArg};
use crate::sim::charger::{FleetConfig, Pace, Target, run_fleet};
use crate::sim::csms::{Csms, CsmsConfig};
use crate::sim::misbehave::{Misbehave, table_text};
use crate::sim::{Tap, tap};
use crate::source::proxy::tls::start_warnings;

#[derive(Debug, Args)]
pub struct SimArgs {
    #[command(subcommand)]
    pub command: SimCommand,
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Run a simulated CSMS that chargers (or the proxy) connect to
    Csms(CsmsArgs),
    /// Run a fleet of simulated chargers against a CSMS
    Charger(ChargerArgs),
}

#[derive(Debug, Args)]
pub struct CsmsArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:9000", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Accepted versions, in order of preference (comma-separated)
    #[arg(long, default_value = "2.1,2.0.1,1.6", value_name = "VERSIONS", value_delimiter = ',', value_parser = parse_version)]
    pub ocpp: Vec<Version>,
    /// Heartbeat interval given to chargers, in seconds
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub heartbeat_interval: u32,
    /// Issue the next common CSMS call (trigger, get/set configuration, remote start/stop)
    /// on every connection at this pace, in seconds
    #[arg(long, value_name = "SECONDS")]
    pub command_every: Option<f64>,
    /// Do not read configuration keys / variables after each boot
    #[arg(long)]
    pub no_config_read: bool,
    /// Record all traffic to this trace file (JSON Lines)
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    #[command(flatten)]
    pub listen_tls: ListenTlsArgs,
    /// Require HTTP Basic authentication with these credentials (profiles 1 and 2);
    /// repeatable. The user must be the station identity; an empty user (`:PASS`) accepts
    /// every station with that password. Others are answered 401
    #[arg(long, value_name = "USER:PASS")]
    pub basic_auth: Vec<SecretArg>,
    /// Like --basic-auth, one USER:PASS per line (`#` comments; keeps passwords out of the
    /// process list)
    #[arg(long, value_name = "FILE")]
    pub basic_auth_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ChargerArgs {
    /// CSMS URL; each station connects to URL/<identity>
    #[arg(
        long,
        value_name = "URL",
        required_unless_present = "list_misbehaviours"
    )]
    pub url: Option<String>,
    /// Number of stations
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Identity prefix (identities are PREFIX001, PREFIX002, ...)
    #[arg(long, default_value = "CP-")]
    pub prefix: String,
    /// Versions, assigned to stations in turn (comma-separated)
    #[arg(long, default_value = "1.6", value_name = "VERSIONS", value_delimiter = ',', value_parser = parse_version)]
    pub ocpp: Vec<Version>,
    /// Connectors (1.6) or EVSEs (2.x) per station
    #[arg(long, default_value_t = 2)]
    pub connectors: u32,
    /// Seconds between meter values
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS")]
    pub meter_interval: f64,
    /// Meter values per session
    #[arg(long, default_value_t = 10)]
    pub samples: u32,
    /// Idle seconds before each session
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub idle: f64,
    /// Sessions per station before it disconnects (default: run until Ctrl-C)
    #[arg(long)]
    pub sessions: Option<u32>,
    /// Only charge when the CSMS asks (remote start)
    #[arg(long)]
    pub no_local_sessions: bool,
    /// Make a station break a rule: KIND (station 1) or KIND@N (station N, 1-based) or
    /// KIND@all; repeatable. See --list-misbehaviours
    #[arg(long, value_name = "KIND[@N]")]
    pub misbehave: Vec<String>,
    /// Print the misbehaviour kinds (kind, versions, rule it triggers, what it does) and exit
    #[arg(long)]
    pub list_misbehaviours: bool,
    /// Record all traffic to this trace file (JSON Lines)
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// For a wss:// URL: the CA certificate(s) that signed the CSMS's certificate (PEM;
    /// default: SSL_CERT_FILE or the system bundle)
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// For a wss:// URL: the client certificate every station presents (PEM; security
    /// profile 3). Its CN names one station: give a fleet of one (`--count 1`)
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert (PEM)
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// HTTP Basic credentials for the handshake (security profiles 1 and 2). OCPP makes the
    /// user the station identity; an empty user (`:PASS`) sends each station's own
    #[arg(long, value_name = "USER:PASS")]
    pub basic_auth: Option<SecretArg>,
}

fn secs(s: f64, what: &str) -> Result<Duration> {
    Duration::try_from_secs_f64(s)
        .with_context(|| format!("{what}: `{s}` is not a duration in seconds"))
}

fn parse_misbehave(s: &str) -> Result<(Target, Misbehave)> {
    let (kind, at) = match s.split_once('@') {
        Some((k, at)) => (k, Some(at)),
        None => (s, None),
    };
    let kind: Misbehave = kind.parse().map_err(anyhow::Error::msg)?;
    let target = match at {
        None => Target::Index(0),
        Some("all") => Target::All,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if n >= 1 => Target::Index(n - 1),
            _ => bail!("--misbehave `{s}`: after @ comes a station number (1-based) or `all`"),
        },
    };
    Ok((target, kind))
}

fn open_record(path: &PathBuf) -> Result<Tap> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(tap(Box::new(BufWriter::new(f))))
}

/// A runtime and a shutdown flag that Ctrl-C sets.
fn runtime() -> Result<(
    tokio::runtime::Runtime,
    watch::Sender<bool>,
    watch::Receiver<bool>,
)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (tx, rx) = watch::channel(false);
    Ok((rt, tx, rx))
}

pub fn run(args: &SimArgs) -> Result<u8> {
    match &args.command {
        SimCommand::Csms(a) => run_csms(a),
        SimCommand::Charger(a) => run_charger(a),
    }
}

fn run_csms(a: &CsmsArgs) -> Result<u8> {
    let mut cfg = CsmsConfig::new(a.listen);
    cfg.versions = a.ocpp.clone();
    cfg.heartbeat_interval = a.heartbeat_interval;
    cfg.read_config_after_boot = !a.no_config_read;
    cfg.command_every = a
        .command_every
        .map(|s| secs(s, "--command-every"))
        .transpose()?;
    cfg.tls = a.listen_tls.config();
    if let Some(tls) = &cfg.tls {
        for w in start_warnings(tls) {
            eprintln!("ocpp-inspector sim csms: warning: {w}");
        }
    }
    let mut creds = Credentials::default();
    for c in &a.basic_auth {
        creds.add(BasicAuth::parse(&c.0, "--basic-auth")?);
    }
    if let Some(path) = &a.basic_auth_file {
        creds.read_file(path)?;
        if creds.is_empty() {
            bail!(
                "--basic-auth-file {}: holds no USER:PASS line",
                path.display()
            );
        }
    }
    let auth_note = if creds.is_empty() {
        ""
    } else {
        ", Basic authentication required"
    };
    cfg.basic_auth = (!creds.is_empty()).then_some(creds);
    let scheme = if cfg.tls.is_some() { "wss" } else { "ws" };
    let cert_note = if a.listen_tls.client_ca.is_some() {
        ", client certificate required"
    } else {
        ""
    };
    cfg.record = a.record.as_ref().map(open_record).transpose()?;
    let (notice_tx, mut notices) = tokio::sync::mpsc::channel::<String>(64);
    cfg.notices = Some(notice_tx);
    let (rt, stop, rx) = runtime()?;
    rt.block_on(async move {
        let csms = Csms::bind(cfg).await?;
        let addr = csms.local_addr()?;
        eprintln!(
            "ocpp-inspector sim csms: listening on {scheme}://{addr}/<identity>{cert_note}{auth_note} (Ctrl-C stops)"
        );
        tokio::spawn(async move {
            while let Some(line) = notices.recv().await {
                eprintln!("ocpp-inspector sim csms: {line}");
            }
        });
        let handle = csms.handle();
        let server = tokio::spawn(csms.run(rx));
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
        let _ = server.await;
        let stations = handle.stations();
        eprintln!(
            "ocpp-inspector sim csms: {} stations, {} boots, {} transactions",
            stations.len(),
            stations.iter().map(|s| s.boots).sum::<u32>(),
            stations.iter().map(|s| s.transactions_started).sum::<u32>()
        );
        Ok(exit::CLEAN)
    })
}

fn run_charger(a: &ChargerArgs) -> Result<u8> {
    if a.list_misbehaviours {
        print!(
            "{:<24} {:<14} {:<38} WHAT IT DOES\n{}",
            "KIND",
            "VERSIONS",
            "RULE",
            table_text()
        );
        return Ok(exit::CLEAN);
    }
    let Some(url) = &a.url else {
        bail!("--url is required");
    };
    let mut cfg = FleetConfig::new(url.clone());
    cfg.count = a.count;
    cfg.prefix = a.prefix.clone();
    cfg.versions = a.ocpp.clone();
    cfg.connectors = a.connectors;
    cfg.pace = Pace {
        meter_interval: secs(a.meter_interval, "--meter-interval")?,
        samples: a.samples,
        idle: secs(a.idle, "--idle")?,
        ..Pace::human()
    };
    cfg.local_sessions = !a.no_local_sessions;
    cfg.sessions = a.sessions;
    cfg.ramp = Duration::from_millis(2);
    for m in &a.misbehave {
        cfg.misbehave.push(parse_misbehave(m)?);
    }
    cfg.ca = a.ca.clone();
    cfg.cert = a.cert.clone();
    cfg.key = a.key.clone();
    cfg.basic_auth = a
        .basic_auth
        .as_ref()
        .map(|s| BasicAuth::parse(&s.0, "--basic-auth"))
        .transpose()?;
    cfg.validate()?;
    cfg.record = a.record.as_ref().map(open_record).transpose()?;
    let (rt, stop, rx) = runtime()?;
    let report = rt.block_on(async move {
        let fleet = tokio::spawn(run_fleet(cfg, rx));
        tokio::pin!(fleet);
        tokio::select! {
            r = &mut fleet => r,
            _ = tokio::signal::ctrl_c() => {
                let _ = stop.send(true);
                fleet.await
            }
        }
    });
    let report = report.context("the fleet task failed")??;
    eprintln!(
        "ocpp-inspector sim charger: {} stations, {} boots, {} sessions, {} reconnects",
        report.stations, report.boots, report.sessions, report.reconnects
    );
    for f in &report.failures {
        eprintln!("  {f}");
    }
    if report.failures.len() == report.stations {
        bail!("no station could run against {url} (see above)");
    }
    Ok(exit::CLEAN)
}
