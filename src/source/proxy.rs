//! The man-in-the-middle proxy: chargers connect here (`ws://` or `wss://`, security
//! profiles 1-3), each connection is relayed to the CSMS at `<upstream>/<identity>`, and every
//! event is tapped for the engine beside the forwarding path.
//!
//! It must never change, reorder or hold back traffic for the sake of inspection: frames are
//! forwarded as the bytes they arrived as, and the [`tap`] is a bounded channel written with
//! `try_send` (a lagging inspector loses events, counted, never the peers' traffic). It judges
//! nothing itself; [`crate::pipeline`] owns the engine, the recorder and the sinks. The one
//! exception to "only relays" is asked for explicitly: [`Proxy::handle`] lets a test case
//! [`inject`] a CALL toward a charger, whose answer is kept from the CSMS; both frames are
//! tapped marked as injected.
//!
//! ```text
//! charger ──► listener (TLS accept, handshake read)          upstream (TCP, TLS, handshake)
//!                 │  identity, offered subprotocols ─────────────► CSMS
//!                 │  ◄── the CSMS's pick / refusal, mirrored ─────┘
//!                 ▼
//!              relay: charger ⇄ CSMS, one message at a time per direction
//!                 │ tap (bounded, try_send)
//!                 ▼
//!          pipeline::spawn consumer: recorder → engine → sinks
//! ```
//!
//! In process (the `demo` and the tests use it this way):
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use ocpp_inspector::source::proxy::{Proxy, ProxyConfig, tap::TapLimits};
//! # let inspector: ocpp_inspector::pipeline::Inspector = todo!();
//! let config = ProxyConfig::new("127.0.0.1:0", "ws://127.0.0.1:9000/ocpp");
//! let proxy = Proxy::bind(config).await?; // TLS files, upstream URL, port: checked here
//! let (tap, consumer) = ocpp_inspector::pipeline::spawn(inspector, TapLimits::default());
//! println!("chargers connect to ws://{}/ocpp/<identity>", proxy.local_addr());
//! let (stop, stopped) = tokio::sync::watch::channel(false);
//! let running = tokio::spawn(proxy.run(tap, stopped));
//! // ... later:
//! let _ = stop.send(true);
//! let _stats = running.await?;
//! let outcome = consumer.finish().await?; // findings counted, report written
//! # let _ = outcome; Ok(()) }
//! ```

pub(crate) mod codec;
pub(crate) mod handshake;
pub mod inject;
pub mod io;
mod listener;
pub mod proxy_protocol;
mod relay;
pub mod tap;
pub mod tls;
pub mod upstream;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub use inject::{InjectError, InjectedReply, ProxyHandle};
use tap::{NoticeKind, Tap};
use tls::{ListenTls, TlsError, UpstreamTls};
use upstream::Upstream;

/// Whether `e` says this process ran out of file descriptors (EMFILE, ENFILE).
pub(crate) fn out_of_descriptors(e: &std::io::Error) -> bool {
    let raw = e.raw_os_error();
    raw.is_some()
        && (raw == Some(rustix::io::Errno::MFILE.raw_os_error())
            || raw == Some(rustix::io::Errno::NFILE.raw_os_error()))
}

/// Turns on TCP keepalive on `tcp`: first probe after `idle`, then every `idle / 4`, five
/// probes. Best effort (an error leaves the socket as it was).
pub(crate) fn keepalive(tcp: &tokio::net::TcpStream, idle: Duration) {
    if idle.is_zero() {
        return;
    }
    use rustix::net::sockopt;
    let _ = sockopt::set_socket_keepalive(tcp, true);
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let _ = sockopt::set_tcp_keepidle(tcp, idle);
        let _ = sockopt::set_tcp_keepintvl(tcp, (idle / 4).max(Duration::from_secs(1)));
        let _ = sockopt::set_tcp_keepcnt(tcp, 5);
    }
}

/// Seconds [`release_freed_memory`] is called after large messages or a connection's end.
const PURGE_TICKS: u8 = 3;

/// Gives the allocator its chance to hand freed memory back to the system. mimalloc returns
/// the pages of freed blocks lazily (a purge delay after the free), and does so only when a
/// later block is freed; a proxy gone quiet after a burst of large messages frees nothing
/// more, and its RSS would stay at the burst's level. A block larger than mimalloc's largest
/// size class, allocated and freed at once (never written, so none of it becomes resident),
/// is such a free. Called once a second for [`PURGE_TICKS`] seconds after large messages went
/// through or a connection ended; ordinary traffic frees little, and then nothing is done.
pub(crate) fn release_freed_memory() {
    let block: Vec<u8> = Vec::with_capacity(1 << 20);
    drop(std::hint::black_box(block));
}

/// Wakes parked workers of the runtime so that they park again, which is when a worker
/// hands back its allocator heap's free pages ([`crate::alloc_trim::idle`], the runtime's
/// park hook): a worker that went to sleep holding pages other threads freed since would
/// otherwise keep them until traffic wakes it. A task spawned here goes to this worker's
/// next-task slot without waking anyone; each further one moves the previous into the queue
/// and wakes a parked worker to steal it (whether it gets it or finds nothing, it parks
/// again). One task per worker, trivial, a few times after a burst: nothing on the path of
/// traffic.
fn wake_idle_workers() {
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    for _ in 0..=workers {
        tokio::spawn(async {});
    }
}

/// Raises the soft limit on open files to the hard limit (each charger costs the proxy two
/// descriptors). Returns the limit now in force, when known.
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    if let (Some(soft), Some(hard)) = (lim.current, lim.maximum)
        && soft < hard
    {
        let wanted = rustix::process::Rlimit {
            current: Some(hard),
            maximum: Some(hard),
        };
        if setrlimit(Resource::Nofile, wanted).is_ok() {
            return Some(hard);
        }
    }
    lim.current
}

/// Everything the proxy needs to start.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// `HOST:PORT` to listen on (`127.0.0.1:0` for any free port).
    pub listen: String,
    /// `ws://HOST:PORT/BASE` or `wss://…`; the charger's identity is appended.
    pub upstream: String,
    /// Terminate `wss://` from chargers (profiles 2 and 3).
    pub listen_tls: Option<ListenTls>,
    /// For a `wss://` upstream.
    pub upstream_tls: UpstreamTls,
    /// The largest WebSocket message relayed; a larger one closes the connection (1009).
    pub max_message: usize,
    /// TCP + TLS + handshake with the CSMS, at most.
    pub connect_timeout: Duration,
    /// The charger's TLS handshake and HTTP request, each at most.
    pub handshake_timeout: Duration,
    /// A closing handshake, at most, before the sockets are dropped.
    pub close_grace: Duration,
    /// The relay's fixed read buffer per socket (headers and small payloads; a larger
    /// payload is read into its own allocation): small keeps idle connections small.
    pub read_buffer: usize,
    /// One message written to a peer, at most: a peer that stops reading frees the relay.
    pub write_timeout: Duration,
    /// Nothing either way for this long closes the connection (zero: never).
    pub idle_timeout: Duration,
    /// TCP keepalive probes after this much silence on a socket (zero: off): finds
    /// half-open connections (a charger that lost power) without any traffic.
    pub keepalive: Duration,
    /// Pass the charger's verified client certificate and subject to the CSMS in this
    /// request header (`Cert="<URL-encoded PEM>";Subject="<subject>"`).
    pub forward_client_cert: Option<String>,
    /// Where the listener counts refusals, TLS failures and upstream connect times, and the
    /// proxy's loop the tap's state (the admin endpoint's metrics).
    pub metrics: Option<Arc<crate::admin::Metrics>>,
    /// Every connection starts with a PROXY protocol header (v1 or v2) from a load balancer,
    /// whose client address is the charger's; without one it is refused. Off: a connection
    /// that starts with such a header is refused.
    pub proxy_protocol: bool,
    /// On shutdown, connections are closed (1001) spread over this long instead of at once,
    /// so chargers reconnect elsewhere gradually (zero: at once).
    pub drain: Duration,
    /// Message bytes in flight (read from a peer, not yet forwarded) across every
    /// connection, at most; see [`io::Budget`]. A read beyond it waits up to the write
    /// timeout, then its connection is closed with 1013.
    pub in_flight_budget: usize,
}

impl ProxyConfig {
    /// Plain `ws://` both ways, default limits.
    pub fn new(listen: &str, upstream: &str) -> Self {
        ProxyConfig {
            listen: listen.to_owned(),
            upstream: upstream.to_owned(),
            listen_tls: None,
            upstream_tls: UpstreamTls::default(),
            max_message: 16 << 20,
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            close_grace: Duration::from_secs(3),
            read_buffer: 4096,
            write_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(7200),
            keepalive: Duration::from_secs(60),
            forward_client_cert: None,
            metrics: None,
            proxy_protocol: false,
            drain: Duration::ZERO,
            in_flight_budget: 256 << 20,
        }
    }
}

/// Why the proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    // Transparent: the TLS error names its file once (a prefix plus the same text as its
    // cause printed it twice).
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Upstream(#[from] upstream::UpstreamUrlError),
}

/// Counters over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProxyStats {
    /// TCP connections accepted.
    pub accepted: u64,
    /// Events the tap dropped because inspection lagged.
    pub tap_dropped: u64,
}

/// A bound proxy, not yet accepting.
pub struct Proxy {
    listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<listener::Shared>,
}

impl Proxy {
    /// Loads the TLS files, checks the upstream URL and binds the listening socket.
    pub async fn bind(config: ProxyConfig) -> Result<Proxy, ProxyError> {
        let acceptor = match &config.listen_tls {
            Some(t) => Some(tokio_rustls::TlsAcceptor::from(tls::server_config(t)?)),
            None => None,
        };
        let wss = config.upstream.starts_with("wss://");
        let client_tls = if wss {
            Some(tls::client_config(&config.upstream_tls)?)
        } else {
            None
        };
        let mut upstream = Upstream::parse(&config.upstream, client_tls)?;
        upstream.keepalive = config.keepalive;
        let bind_err = |source| ProxyError::Bind {
            addr: config.listen.clone(),
            source,
        };
        let addr = tokio::net::lookup_host(config.listen.as_str())
            .await
            .map_err(bind_err)?
            .next()
            .ok_or_else(|| bind_err(std::io::Error::other("the address resolves to nothing")))?;
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(bind_err)?;
        socket.set_reuseaddr(true).map_err(bind_err)?;
        socket.bind(addr).map_err(bind_err)?;
        // A deep backlog: thousands of chargers reconnect at once after a CSMS restart.
        let listener = socket.listen(4096).map_err(bind_err)?;
        let addr = listener.local_addr().map_err(bind_err)?;
        Ok(Proxy {
            listener,
            addr,
            shared: Arc::new(listener::Shared {
                budget: io::Budget::new(config.in_flight_budget, config.write_timeout),
                upstream,
                acceptor,
                config,
                registry: Arc::default(),
                noise: listener::Noise::default(),
            }),
        })
    }

    /// The in-flight budget every connection (and the inspection of large frames) takes
    /// from: what is taken now, the peak, the limit.
    pub fn in_flight_budget(&self) -> Arc<io::Budget> {
        self.shared.budget.clone()
    }

    /// The address it listens on (the real port when port 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle to inject CSMS-side CALLs on this proxy's connections (see [`inject`]);
    /// take it before [`Proxy::run`], use it while the proxy runs.
    pub fn handle(&self) -> ProxyHandle {
        ProxyHandle {
            registry: self.shared.registry.clone(),
        }
    }

    /// `ws` or `wss`, as chargers must connect.
    pub fn scheme(&self) -> &'static str {
        if self.shared.acceptor.is_some() {
            "wss"
        } else {
            "ws"
        }
    }

    /// Accepts and relays until `shutdown` turns true (or its sender is dropped); then stops
    /// accepting, closes every connection with 1001 both ways (bounded by the close grace)
    /// and returns. Every event goes to `tap`, and once a second the time ([`Tap::clock`]),
    /// so inspection sees time pass on an idle proxy; `tap` is released when this returns, so
    /// the consumer can finish.
    pub async fn run(self, tap: Tap, mut shutdown: watch::Receiver<bool>) -> ProxyStats {
        let mut stats = ProxyStats::default();
        // Large frames take their inspection from the in-flight budget too.
        let tap = tap.with_budget(self.shared.budget.clone());
        let mut tasks = JoinSet::new();
        let mut backoff = false;
        let conn_shutdown = shutdown.clone();
        let mut summary = tokio::time::interval(Duration::from_secs(1));
        // Ticks left to give the allocator its chance (see [`release_freed_memory`]): after
        // large messages or a connection's end, for a few seconds (past the purge delay).
        let mut purge_ticks = 0u8;
        summary.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => break,
                _ = summary.tick() => {
                    tap.clock(crate::time::Timestamp::now());
                    if self.shared.budget.take_touched() {
                        purge_ticks = PURGE_TICKS;
                    }
                    if purge_ticks > 0 {
                        purge_ticks -= 1;
                        release_freed_memory();
                        // Each thread going idle from now on hands back its allocator
                        // heap's free pages (see [`wake_idle_workers`]).
                        crate::alloc_trim::new_epoch();
                        wake_idle_workers();
                    }
                    if let Some(m) = &self.shared.config.metrics {
                        m.tap_state(tap.dropped(), tap.bytes_in_flight(), tap.bytes_limit());
                    }
                    let held = self.shared.noise.take_held();
                    if held > 0 {
                        let conn: Arc<str> = Arc::from(self.addr.to_string());
                        tap.notice(&conn, NoticeKind::Conn, format!(
                            "{held} more connection-noise lines in the last second left out (refused or broken handshakes, failed accepts)"
                        ));
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => purge_ticks = PURGE_TICKS,
                _ = tokio::time::sleep(Duration::from_millis(50)), if backoff => backoff = false,
                r = self.listener.accept(), if !backoff => match r {
                    Ok((tcp, peer)) => {
                        stats.accepted += 1;
                        if let Some(m) = &self.shared.config.metrics {
                            m.accepted.inc();
                        }
                        let shared = self.shared.clone();
                        tasks.spawn(listener::handle(tcp, peer, shared, tap.clone(), conn_shutdown.clone()));
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: say so, pause, go on.
                        let conn: Arc<str> = Arc::from(self.addr.to_string());
                        let text = if out_of_descriptors(&e) {
                            format!("accept failed: the proxy is out of file descriptors ({e}); new chargers wait in the backlog until connections close (raise `ulimit -n`)")
                        } else {
                            format!("accept failed: {e}")
                        };
                        if self.shared.noise.admit() {
                            tap.notice(&conn, NoticeKind::Conn, text);
                        }
                        backoff = true;
                    }
                },
            }
        }
        drop(self.listener);
        let limit =
            self.shared.config.drain + self.shared.config.close_grace + Duration::from_secs(1);
        let drained =
            tokio::time::timeout(limit, async { while tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        stats.tap_dropped = tap.dropped();
        stats
    }
}
