//! Proxy benchmark (not a test): request/response round trips through the proxy and directly
//! to the CSMS at 1, 100 and 5,000 concurrent connections (p50/p99), and the proxy's memory
//! per idle connection.
//!
//! The proxy is the real binary (`ocpp-inspector proxy --no-tui`, engine on, no recording) in
//! a child process, so its memory (VmRSS from /proc) is its own; the CSMS (answers every
//! Heartbeat CALL with a CALLRESULT) and the chargers run here on one tokio runtime.
//!
//! Run: `cargo bench --bench proxy_latency` (environment: `PROXY_BENCH_MAX` caps the largest
//! level, `PROXY_BENCH_IDLE` sets the idle connections of the memory probe, default 2000;
//! `PROXY_BENCH_IDLE=0` skips it; `PROXY_BENCH_PIN=1` gives the proxy a core of its own, the
//! load generator the other; `PROXY_BENCH_PROXY_THREADS=N` sets the proxy's worker threads;
//! `PROXY_BENCH_LEVELS=paced,burst` runs only the named rows (one, hundred, paced, burst);
//! `PROXY_BENCH_REPEAT=N` runs each row N times and prints min/median/max of the added p99;
//! `PROXY_BENCH_RELAY=tcp` measures a bare TCP relay in the proxy's place, the floor;
//! `PROXY_BENCH_RECORD=1` makes the proxy record every frame to a temporary file;
//! `PROXY_BENCH_ADMIN=1` gives it `--admin` (metrics, forward-latency histogram);
//! `PROXY_BENCH_BIN=PATH` runs another build of the proxy, e.g. the one before a change).
//! Each row also shows the proxy's context switches and CPU time per round trip, read from
//! /proc: figures that move less with the machine's other load than latency does.
//! Each proxied connection costs 2 file descriptors in each process: 5,000 need
//! `ulimit -n` above 10,000 (the largest level is capped to fit the soft limit, and says so).
//! Bounded in time: every level has a deadline.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::result_large_err,
    reason = "benchmark harness: a failure is a failed run"
)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, http};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LEVEL_DEADLINE: Duration = Duration::from_secs(120);

fn small() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4096)
}

/// A CSMS that answers every CALL `[2,"id",...]` with `[3,"id",{...}]`.
async fn csms() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let cb = |_: &Request, mut resp: Response| {
                    resp.headers_mut().insert(
                        "Sec-WebSocket-Protocol",
                        http::HeaderValue::from_static("ocpp1.6"),
                    );
                    Ok(resp)
                };
                let Ok(mut ws) =
                    tokio_tungstenite::accept_hdr_async_with_config(tcp, cb, Some(small())).await
                else {
                    return;
                };
                while let Some(Ok(m)) = ws.next().await {
                    if let Message::Text(t) = m {
                        let id = t
                            .as_str()
                            .strip_prefix("[2,\"")
                            .and_then(|r| r.split('"').next())
                            .unwrap_or("?");
                        let reply =
                            format!("[3,\"{id}\",{{\"currentTime\":\"2026-11-22T10:15:03Z\"}}]");
                        if ws.send(Message::text(reply)).await.is_err() {
                            break;
                        }
                    }
                }
            });
        }
    });
    addr
}

type Ws = WebSocketStream<TcpStream>;

async fn connect(url: String) -> Ws {
    let mut req = url.as_str().into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        http::HeaderValue::from_static("ocpp1.6"),
    );
    let host = req.uri().host().unwrap().to_owned();
    let port = req.uri().port_u16().unwrap();
    let tcp = TcpStream::connect((host.as_str(), port)).await.unwrap();
    let _ = tcp.set_nodelay(true);
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, tcp, Some(small()))
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"));
    ws
}

async fn open_many(base: &str, n: usize, tag: &str) -> Vec<Ws> {
    let urls: Vec<String> = (0..n).map(|i| format!("{base}/{tag}-{i}")).collect();
    futures_util::stream::iter(urls)
        .map(connect)
        .buffer_unordered(64)
        .collect()
        .await
}

/// Opens `n` connections, then each does `rounds` round trips, one every `period` (the
/// connections' phases spread evenly over the period: an open-loop load of `n / period`
/// calls per second, as a fleet of stations produces; `period` zero: back to back, all at
/// once, which measures saturation rather than latency). Returns the round-trip times in
/// microseconds, sorted.
async fn level(base: &str, n: usize, rounds: usize, tag: &str, period: Duration) -> Vec<u32> {
    let conns = open_many(base, n, tag).await;
    let (go, gate) = watch::channel(false);
    let mut tasks = Vec::with_capacity(n);
    for (i, mut ws) in conns.into_iter().enumerate() {
        let mut gate = gate.clone();
        let phase = period.mul_f64(i as f64 / n.max(1) as f64);
        tasks.push(tokio::spawn(async move {
            let _ = gate.wait_for(|g| *g).await;
            let start = tokio::time::Instant::now() + phase;
            let mut times = Vec::with_capacity(rounds);
            for r in 0..rounds {
                #[expect(clippy::cast_possible_truncation, reason = "rounds are few")]
                tokio::time::sleep_until(start + period * r as u32).await;
                let call = format!("[2,\"{r}\",\"Heartbeat\",{{}}]");
                let t = Instant::now();
                ws.send(Message::text(call)).await.unwrap();
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(_))) => break,
                        Some(Ok(_)) => {}
                        other => panic!("round trip failed: {other:?}"),
                    }
                }
                times.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            let _ = ws.close(None).await;
            times
        }));
    }
    let _ = go.send(true);
    let mut all = Vec::with_capacity(n * rounds);
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    all
}

fn pct(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a small vector"
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn soft_fd_limit() -> usize {
    let s = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// Context switches of every thread of `pid` so far (voluntary + involuntary).
fn ctx_switches(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .map(|t| {
            let s = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
            s.lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

/// CPU time (user + system) of `pid` so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`: state is the 1st, utime the 12th, stime the 13th.
    let rest = s.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    get(11) + get(12)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Set on the child that plays the bare TCP relay.
const ROLE: &str = "PROXY_BENCH_ROLE";

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var(ROLE).is_ok_and(|r| r == "tcp-relay") {
        rt.block_on(tcp_relay());
    } else {
        rt.block_on(run());
    }
}

/// The bare relay: every accepted connection gets its own connection to the CSMS
/// (`PROXY_BENCH_UPSTREAM`) and bytes are copied both ways until either side ends. Ends
/// when the benchmark kills it.
async fn tcp_relay() {
    let upstream: SocketAddr = std::env::var("PROXY_BENCH_UPSTREAM")
        .expect("PROXY_BENCH_UPSTREAM")
        .parse()
        .expect("an address");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    // The same line shape as the proxy's, which the benchmark reads the address from.
    eprintln!(
        "tcp relay listening on ws://{}/",
        listener.local_addr().unwrap()
    );
    while let Ok((mut down, _)) = listener.accept().await {
        tokio::spawn(async move {
            let _ = down.set_nodelay(true);
            let Ok(mut up) = TcpStream::connect(upstream).await else {
                return;
            };
            let _ = up.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut down, &mut up).await;
        });
    }
}

async fn run() {
    let csms = csms().await;
    // `PROXY_BENCH_PIN=1`: the proxy on CPU 1, this process (clients and CSMS) on CPU 0, so
    // the load generator does not steal the proxy's core (as on separate machines).
    let pin = std::env::var_os("PROXY_BENCH_PIN").is_some();
    // `PROXY_BENCH_RELAY=tcp`: instead of the proxy, a bare TCP relay (this benchmark run
    // again as a child: accept, connect to the CSMS, copy bytes both ways; no WebSocket, no
    // inspection), the floor any proxy on this machine starts from.
    let tcp_relay = std::env::var("PROXY_BENCH_RELAY").is_ok_and(|v| v == "tcp");
    let program = if tcp_relay {
        std::env::current_exe().expect("the benchmark's own path")
    } else if let Some(bin) = std::env::var_os("PROXY_BENCH_BIN") {
        std::path::PathBuf::from(bin)
    } else {
        std::path::PathBuf::from(env!("CARGO_BIN_EXE_ocpp-inspector"))
    };
    let record_dir = tempfile::tempdir().expect("a temporary folder for the recording");
    let record_path = record_dir.path().join("bench.jsonl");
    let mut command = if pin {
        let _ = Command::new("taskset")
            .args(["-a", "-p", "-c", "0", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status();
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(&program);
        c
    } else {
        Command::new(&program)
    };
    // `PROXY_BENCH_PROXY_THREADS=N`: the proxy's runtime gets N worker threads (tokio reads
    // TOKIO_WORKER_THREADS), to see what thread hand-offs cost per hop.
    if let Ok(n) = std::env::var("PROXY_BENCH_PROXY_THREADS") {
        command.env("TOKIO_WORKER_THREADS", n);
    }
    if tcp_relay {
        command
            .env(ROLE, "tcp-relay")
            .env("PROXY_BENCH_UPSTREAM", csms.to_string());
    } else {
        command.args([
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--no-tui",
            "--upstream",
            &format!("ws://{csms}/ocpp"),
        ]);
        // `PROXY_BENCH_RECORD=1`: the proxy also records every frame (`--record`), to
        // measure what the recording costs per round trip.
        if std::env::var_os("PROXY_BENCH_RECORD").is_some() {
            command.arg("--record").arg(&record_path);
        }
        // `PROXY_BENCH_ADMIN=1`: the admin endpoint too, so every frame also updates the
        // metrics (what --admin costs per round trip).
        if std::env::var_os("PROXY_BENCH_ADMIN").is_some() {
            command.args(["--admin", "127.0.0.1:0"]);
        }
    }
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the proxy");
    let pid = child.id();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The listening line (an `admin` line may come first).
    let listening = loop {
        let l = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the proxy starts");
        if l.contains("ws://") || tcp_relay {
            break l;
        }
    };
    let proxy = listening
        .split("ws://")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .expect("the listening line names the address")
        .to_owned();
    // Count the proxy's other stderr lines (findings would mean the workload is wrong).
    let findings = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let f2 = findings.clone();
    std::thread::spawn(move || {
        for l in rx {
            if (l.starts_with("error") || l.starts_with("warning"))
                && f2.fetch_add(1, std::sync::atomic::Ordering::Relaxed) == 0
            {
                eprintln!("proxy: {l}");
            }
        }
    });

    // Two sockets per connection in this process (charger + CSMS side).
    let fd_cap = soft_fd_limit().saturating_sub(256) / 2;
    let max = env_usize("PROXY_BENCH_MAX", 5000);
    // Memory per idle connection, as the proxy process sees it.
    let idle = env_usize("PROXY_BENCH_IDLE", 2000).min(fd_cap);
    // Measured first, on a fresh proxy, so memory freed by the latency levels cannot be
    // reused and hide the cost. A few connections first warm up the engine (schemas).
    let warm = level(&format!("ws://{proxy}/ocpp"), 10, 10, "W", Duration::ZERO).await;
    drop(warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
    if idle > 0 {
        let before = rss_kib(pid);
        let conns = tokio::time::timeout(
            LEVEL_DEADLINE,
            open_many(&format!("ws://{proxy}/ocpp"), idle, "I"),
        )
        .await
        .expect("idle connections within the deadline");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = rss_kib(pid);
        #[expect(clippy::cast_precision_loss, reason = "display only")]
        let per = (after.saturating_sub(before)) as f64 / idle.max(1) as f64;
        println!(
            "proxy RSS: {before} KiB with no connection → {after} KiB with {idle} idle proxied connections: {per:.1} KiB per idle connection"
        );
        // Close them cleanly and let the proxy settle, so the levels below measure only
        // themselves.
        let closing = futures_util::future::join_all(conns.into_iter().map(|mut ws| async move {
            let _ = ws.close(None).await;
            while let Some(Ok(_)) = ws.next().await {}
        }));
        let _ = tokio::time::timeout(LEVEL_DEADLINE, closing).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    if tcp_relay {
        println!("(PROXY_BENCH_RELAY=tcp: a bare TCP relay in the proxy's place)");
    }
    println!(
        "proxy_latency: round trips (CALL → CALLRESULT), loopback, {}",
        if pin {
            "the proxy pinned to CPU 1, clients and CSMS to CPU 0"
        } else {
            "2 cores shared by clients, CSMS and proxy"
        }
    );
    println!(
        "{:>6} {:>7} {:>7} | {:>9} {:>9} | {:>9} {:>9} | {:>9} {:>9}",
        "conns",
        "rounds",
        "every",
        "direct50",
        "direct99",
        "proxy50",
        "proxy99",
        "added50",
        "added99"
    );
    println!("(cs: the proxy's context switches, all threads; ticks: its CPU time in clock ticks)");
    // Each level: connections, round trips each, and the period between one connection's
    // calls (5,000 stations each calling every 2 s is 2,500 calls/s, far above a real
    // fleet's heartbeat rate; the last row is the same fleet all calling at once).
    let all_levels = [
        ("one", 1usize, 2000usize, Duration::ZERO),
        ("hundred", 100, 20, Duration::from_millis(200)),
        ("paced", max, 5, Duration::from_secs(2)),
        ("burst", max, 3, Duration::ZERO),
    ];
    // `PROXY_BENCH_LEVELS=paced,one` runs only those rows; `PROXY_BENCH_REPEAT=N` runs each
    // N times (the spread between runs says how far one figure can be trusted).
    let only = std::env::var("PROXY_BENCH_LEVELS").ok();
    let repeat = env_usize("PROXY_BENCH_REPEAT", 1).max(1);
    let mut summary: Vec<(String, Vec<i64>)> = Vec::new();
    for (name, n, rounds, period) in all_levels {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|w| w.trim() == name))
        {
            continue;
        }
        let n_eff = n.min(fd_cap);
        if n_eff < n {
            println!("(level {n} capped to {n_eff} by the soft fd limit; raise `ulimit -n`)");
        }
        let mut added99 = Vec::with_capacity(repeat);
        for _ in 0..repeat {
            let direct = tokio::time::timeout(
                LEVEL_DEADLINE,
                level(&format!("ws://{csms}/ocpp"), n_eff, rounds, "D", period),
            )
            .await
            .expect("direct level within its deadline");
            let (cs0, cpu0) = (ctx_switches(pid), cpu_ticks(pid));
            let proxied = tokio::time::timeout(
                LEVEL_DEADLINE,
                level(&format!("ws://{proxy}/ocpp"), n_eff, rounds, "P", period),
            )
            .await
            .expect("proxied level within its deadline");
            let (cs1, cpu1) = (ctx_switches(pid), cpu_ticks(pid));
            let (d50, d99, p50, p99) = (
                pct(&direct, 0.5),
                pct(&direct, 0.99),
                pct(&proxied, 0.5),
                pct(&proxied, 0.99),
            );
            #[expect(clippy::cast_precision_loss, reason = "display only")]
            let per_rt = |v: u64| v as f64 / proxied.len().max(1) as f64;
            println!(
                "{n_eff:>6} {rounds:>7} {:>7} | {d50:>7}us {d99:>7}us | {p50:>7}us {p99:>7}us | {:>7}us {:>7}us | {:>5.1} cs {:>6.3} ticks per round trip",
                if period.is_zero() {
                    "at once".to_owned()
                } else {
                    format!("{}ms", period.as_millis())
                },
                i64::from(p50) - i64::from(d50),
                i64::from(p99) - i64::from(d99),
                per_rt(cs1 - cs0),
                per_rt(cpu1 - cpu0),
            );
            added99.push(i64::from(p99) - i64::from(d99));
            // Let closes settle before the next level.
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        summary.push((format!("{name} ({n_eff} conns)"), added99));
    }
    if repeat > 1 {
        for (name, mut v) in summary {
            v.sort_unstable();
            println!(
                "{name}: added p99 over {} runs: min {}us, median {}us, max {}us",
                v.len(),
                v[0],
                v[v.len() / 2],
                v[v.len() - 1]
            );
        }
    }

    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    let n = findings.load(std::sync::atomic::Ordering::Relaxed);
    if n > 0 {
        println!("note: the proxy reported {n} findings on this workload");
    }
}
