//! Flag groups shared by several commands, declared once: [`EngineArgs`] (how the inspection
//! engine judges: version, schemas, errata, configuration, rules switched off, call timeout)
//! for `check`, `proxy`, `view` and `testcase run`, and [`ProxyArgs`] (where the proxy
//! listens, the CSMS it relays to, TLS both ways, its limits) for `proxy` and `testcase run
//! --live`, with the one conversion of those flags into a [`ProxyConfig`].
//!
//! Declarations and flag → configuration only: it opens no socket and reads no file beyond
//! what the configuration builders read, and it prints nothing.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::parse_version;
use crate::engine::Config;
use crate::engine::schema::{ErrataSelection, SchemaSet};
use crate::ocpp::Version;
use crate::source::input::{InputFormat, InputOptions, Tz};
use crate::source::proxy::ProxyConfig;
use crate::source::proxy::tls::{ListenTls, UpstreamTls};

/// The engine's flags, the same in every command that judges traffic.
#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// OCPP version of connections that tell none (no `open` event with a subprotocol in a
    /// trace, no negotiated subprotocol live)
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub ocpp: Option<Version>,

    /// Load an official OCA schema folder instead of the built-in schemas
    /// (Action.json / ActionRequest.json + ActionResponse.json, or subfolders 1.6/ 2.0.1/ 2.1/)
    #[arg(long, value_name = "DIR")]
    pub schemas: Option<PathBuf>,

    /// Errata overlays on the built-in schemas: all, none, or a comma-separated list of names
    /// (prefix each with - to drop it from all); `ocpp-inspector rules --errata` lists them
    #[arg(long, default_value = "all", value_name = "SET")]
    pub errata: String,

    /// Configuration file: rule severities or `off`, and tolerances (see README)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Switch a rule off (repeatable)
    #[arg(long = "disable", value_name = "RULE")]
    pub disable: Vec<String>,

    /// Seconds after which an unanswered CALL counts as timed out (default 30, or the
    /// configuration file's `call_timeout`)
    #[arg(long, value_name = "SECONDS")]
    pub call_timeout: Option<f64>,

    /// Framing, message ids and pairing, and the JSON schemas only: no protocol rule (state,
    /// sequencing, values) is run
    #[arg(long)]
    pub schema_only: bool,

    /// Where a profile-3 client certificate must name the station: cn (its subject's common
    /// name, as OCPP asks), san (a DNS or URI subject alternative name) or either
    #[arg(long, value_name = "WHERE", default_value = "cn")]
    pub cert_identity: crate::engine::config::CertIdentity,
}

impl EngineArgs {
    /// The schema set `--schemas` and `--errata` ask for.
    pub fn schemas(&self) -> Result<SchemaSet> {
        load_schemas(self.schemas.as_ref(), &self.errata)
    }
}

/// Builds the schema set the flags ask for.
pub fn load_schemas(dir: Option<&PathBuf>, errata: &str) -> Result<SchemaSet> {
    match dir {
        Some(dir) => {
            if errata != "all" {
                bail!(
                    "--errata applies to the built-in schemas only; a --schemas folder is used as it is"
                );
            }
            SchemaSet::from_dir(dir).with_context(|| format!("loading --schemas {}", dir.display()))
        }
        None => {
            let sel =
                ErrataSelection::parse(errata).map_err(|e| anyhow::anyhow!("--errata: {e}"))?;
            Ok(SchemaSet::builtin(&sel)?)
        }
    }
}

/// Builds the engine configuration from `--config`, `--disable` and `--call-timeout`.
pub fn build_config(args: &EngineArgs) -> Result<Config> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --config {}", path.display()))?;
            Config::from_toml(&text, &path.display().to_string()).map_err(|e| anyhow::anyhow!(e))?
        }
        None => Config::default(),
    };
    for id in &args.disable {
        config
            .disable(id)
            .map_err(|e| anyhow::anyhow!("--disable: {e}"))?;
    }
    config.schema_only = args.schema_only;
    config.cert_identity = args.cert_identity;
    if let Some(t) = args.call_timeout {
        if !(t.is_finite() && t > 0.0 && t < 1e9) {
            bail!("--call-timeout must be a positive number of seconds, got {t}");
        }
        #[expect(clippy::cast_possible_truncation, reason = "range checked above")]
        {
            config.tol.call_timeout_us = (t * 1e6) as i64;
        }
    }
    Ok(config)
}

/// How trace inputs are read, the same in `check`, `view`, `testcase run` and `convert`.
#[derive(Debug, Clone, Default, Args)]
pub struct InputArgs {
    // Its help names the presets from their table (`input_format_help`).
    #[arg(long, value_name = "FORMAT", value_parser = parse_input_format, help = input_format_help())]
    pub input_format: Option<InputFormat>,

    /// The zone of log times written without one: UTC or a fixed offset (+02:00, -0500)
    #[arg(long, value_name = "OFFSET", value_parser = parse_tz)]
    pub tz: Option<Tz>,

    /// The station identity of an input that names none (a log of one station, a capture
    /// that starts after the handshake)
    #[arg(long, value_name = "IDENTITY")]
    pub conn: Option<String>,
}

impl InputArgs {
    pub fn options(&self) -> InputOptions {
        InputOptions {
            format: self.input_format.clone(),
            tz: self.tz,
            conn: self.conn.clone(),
        }
    }
}

/// The help of `--input-format`: the formats, and the log presets as the preset table lists
/// them (a preset added there is named here without another edit).
fn input_format_help() -> String {
    format!(
        "Input format, instead of telling it by content: jsonl (our traces), pcap (pcap or \
         pcapng of plain ws://), oot (Open OCPP Trace), log (a text log, generic extractor), \
         log:PRESET with PRESET one of {}",
        crate::source::log::preset_names().join(", ")
    )
}

fn parse_input_format(s: &str) -> Result<InputFormat, String> {
    s.parse()
}

fn parse_tz(s: &str) -> Result<Tz, String> {
    s.parse()
}

/// Serving wss:// to chargers: `proxy` (and `testcase run --live`) and `sim csms`.
#[derive(Debug, Clone, Args)]
pub struct ListenTlsArgs {
    /// Serve wss:// to chargers with this certificate chain (PEM; security profiles 2 and 3)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Require a charger certificate signed by this CA (PEM; security profile 3)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
}

impl ListenTlsArgs {
    /// The listener's TLS: `None` (plain ws://) without --tls-cert and --tls-key.
    pub fn config(&self) -> Option<ListenTls> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(ListenTls {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.client_ca.clone(),
            }),
            _ => None,
        }
    }
}

/// The proxy's flags: where chargers connect, the CSMS, TLS both ways and the relay's limits.
/// `--listen` and `--upstream` are optional here; `proxy` makes them required, `testcase run`
/// requires them with `--live`.
#[derive(Debug, Clone, Args)]
pub struct ProxyArgs {
    /// Address chargers connect to (ws://HOST:PORT/ANY/PATH/<identity>)
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,

    /// The CSMS: ws://HOST:PORT/BASE or wss://…; the charger's identity is appended
    #[arg(long, value_name = "URL")]
    pub upstream: Option<String>,

    #[command(flatten)]
    pub listen_tls: ListenTlsArgs,

    /// CA certificates for a wss:// upstream (default: SSL_CERT_FILE or the system bundle)
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,

    /// Client certificate toward a wss:// upstream (profile 3)
    #[arg(long, value_name = "FILE", requires = "upstream_key")]
    pub upstream_cert: Option<PathBuf>,

    /// The private key of --upstream-cert
    #[arg(long, value_name = "FILE", requires = "upstream_cert")]
    pub upstream_key: Option<PathBuf>,

    /// Largest WebSocket message relayed, in bytes; a larger one closes the connection (1009)
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20)]
    pub max_message: usize,

    /// Seconds to reach the CSMS and complete its handshake
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub connect_timeout: u64,

    /// Seconds one message may take to be written to a peer; a peer that stops reading
    /// longer has both sides closed (1001)
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub write_timeout: u64,

    /// Seconds a connection may carry nothing either way before both sides are closed
    /// (1001); 0: never
    #[arg(long, value_name = "SECONDS", default_value_t = 7200)]
    pub idle_timeout: u64,

    /// Seconds of silence on a socket before TCP keepalive probes find a half-open peer;
    /// 0: off
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub keepalive: u64,

    /// Seconds after which inspection forgets a station that closed and did not come back
    /// (its pending calls and history); 0: never
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    pub forget_after: u64,

    /// Pass the charger's verified client certificate (PEM, URL-encoded) and subject to the
    /// CSMS in this request header, as `Cert="…";Subject="…"` (like Envoy's
    /// X-Forwarded-Client-Cert); a header of that name from the charger is dropped
    #[arg(long, value_name = "HEADER", requires = "client_ca")]
    pub forward_client_cert: Option<String>,

    /// Every connection starts with a PROXY protocol header (v1 or v2, as HAProxy's
    /// `send-proxy-v2` sends it): the charger's real address is taken from it, and a
    /// connection without one is refused. Without this flag a connection that starts with
    /// such a header is refused
    #[arg(long)]
    pub proxy_protocol: bool,

    /// On SIGTERM (or POST /drain on the admin port), stop accepting and close the
    /// connections (1001) spread over this many seconds, so chargers reconnect through the
    /// load balancer to the other proxies gradually; 0: all at once
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub drain_seconds: u64,
    /// Message bytes in flight (read from a peer, not yet forwarded) across all connections,
    /// at most; beyond it a peer's reads pause, and one that waits --write-timeout is closed
    /// with 1013 (a gap record notes its lost message). Inspecting a frame over 16 KiB takes
    /// twice its size from it too, without waiting: without room, the frame is forwarded and
    /// recorded but not inspected (a notice says so). At least --max-message + 16 KiB
    #[arg(long, value_name = "BYTES", default_value_t = 256 << 20)]
    pub in_flight_budget: usize,
}

/// The ids of every [`ProxyArgs`] flag, for commands that allow them only together with
/// another flag (`testcase run` with `--live`).
pub const PROXY_ARG_IDS: [&str; 18] = [
    "listen",
    "upstream",
    "tls_cert",
    "tls_key",
    "client_ca",
    "upstream_ca",
    "upstream_cert",
    "upstream_key",
    "max_message",
    "connect_timeout",
    "write_timeout",
    "idle_timeout",
    "keepalive",
    "forget_after",
    "forward_client_cert",
    "proxy_protocol",
    "drain_seconds",
    "in_flight_budget",
];

impl ProxyArgs {
    /// `--listen` and `--upstream`, or an error naming the one missing.
    pub fn endpoints(&self) -> Result<(&str, &str)> {
        match (&self.listen, &self.upstream) {
            (Some(l), Some(u)) => Ok((l, u)),
            (None, _) => bail!("--listen is required"),
            (_, None) => bail!("--upstream is required"),
        }
    }

    /// The proxy's configuration: endpoints, TLS both ways and limits, checked.
    pub fn proxy_config(&self) -> Result<ProxyConfig> {
        let (listen, upstream) = self.endpoints()?;
        if self.max_message < 1024 {
            bail!("--max-message must be at least 1024 bytes");
        }
        if self.connect_timeout == 0 {
            bail!("--connect-timeout must be at least 1 second");
        }
        let mut c = ProxyConfig::new(listen, upstream);
        c.listen_tls = self.listen_tls.config();
        c.upstream_tls = UpstreamTls {
            ca: self.upstream_ca.clone(),
            cert: self.upstream_cert.clone(),
            key: self.upstream_key.clone(),
        };
        if !upstream.starts_with("wss://")
            && (self.upstream_ca.is_some() || self.upstream_cert.is_some())
        {
            bail!("--upstream-ca/--upstream-cert apply to a wss:// upstream only");
        }
        c.max_message = self.max_message;
        let least = self
            .max_message
            .saturating_add(crate::source::proxy::io::FREE_PER_MESSAGE);
        if self.in_flight_budget < least {
            bail!(
                "--in-flight-budget must be at least --max-message + 16 KiB ({least} bytes), or a largest message could never be relayed"
            );
        }
        c.in_flight_budget = self.in_flight_budget;
        c.connect_timeout = Duration::from_secs(self.connect_timeout);
        if self.write_timeout == 0 {
            bail!("--write-timeout must be at least 1 second");
        }
        c.write_timeout = Duration::from_secs(self.write_timeout);
        c.idle_timeout = Duration::from_secs(self.idle_timeout);
        c.keepalive = Duration::from_secs(self.keepalive);
        c.proxy_protocol = self.proxy_protocol;
        if self.drain_seconds > 86_400 {
            bail!("--drain-seconds must be at most 86400 (a day)");
        }
        c.drain = Duration::from_secs(self.drain_seconds);
        if let Some(h) = &self.forward_client_cert {
            let token = !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if !token {
                bail!("--forward-client-cert `{h}` is not an HTTP header name");
            }
            c.forward_client_cert = Some(h.clone());
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Both {
        #[command(flatten)]
        engine: EngineArgs,
        #[command(flatten)]
        proxy: ProxyArgs,
    }

    #[test]
    fn proxy_ids_name_every_proxy_flag() {
        let cmd = <Both as clap::CommandFactory>::command();
        for id in PROXY_ARG_IDS {
            assert!(cmd.get_arguments().any(|a| a.get_id() == id), "{id}");
        }
        let proxy_args = cmd
            .get_arguments()
            .filter(|a| {
                ![
                    "ocpp",
                    "schemas",
                    "errata",
                    "config",
                    "disable",
                    "call_timeout",
                    "schema_only",
                    "cert_identity",
                ]
                .contains(&a.get_id().as_str())
            })
            .count();
        assert_eq!(proxy_args, PROXY_ARG_IDS.len());
    }

    #[test]
    fn flags_become_a_proxy_config() {
        let b = Both::try_parse_from([
            "x",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "wss://csms/ocpp",
            "--tls-cert",
            "s.pem",
            "--tls-key",
            "s.key",
            "--client-ca",
            "ca.pem",
            "--upstream-ca",
            "ca.pem",
            "--max-message",
            "2048",
        ])
        .expect("parses");
        let c = b.proxy.proxy_config().expect("valid");
        let tls = c.listen_tls.expect("listen TLS");
        assert_eq!(tls.client_ca, Some(PathBuf::from("ca.pem")));
        assert_eq!(c.upstream_tls.ca, Some(PathBuf::from("ca.pem")));
        assert_eq!(c.max_message, 2048);

        let b = Both::try_parse_from([
            "x",
            "--listen",
            "a:1",
            "--upstream",
            "ws://csms",
            "--upstream-ca",
            "ca.pem",
        ])
        .expect("parses");
        let e = b
            .proxy
            .proxy_config()
            .expect_err("ws:// with an upstream CA");
        assert!(e.to_string().contains("wss:// upstream only"), "{e}");
        let b = Both::try_parse_from(["x", "--upstream", "ws://csms"]).expect("parses");
        let e = b.proxy.proxy_config().expect_err("no --listen");
        assert_eq!(e.to_string(), "--listen is required");
    }

    #[test]
    fn engine_flags_build_the_config() {
        let b = Both::try_parse_from(["x", "--disable", "rpc.no-such-rule"]).expect("parses");
        let e = build_config(&b.engine).expect_err("unknown rule");
        assert!(e.to_string().contains("unknown rule"), "{e}");
        let b = Both::try_parse_from(["x", "--call-timeout", "2.5"]).expect("parses");
        let c = build_config(&b.engine).expect("valid");
        assert_eq!(c.tol.call_timeout_us, 2_500_000);
    }
}
