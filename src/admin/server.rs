//! The admin port's tiny HTTP/1.1 server, on tokio directly: one request per connection
//! (`Connection: close`), a head of at most [`MAX_HEAD`] bytes read within [`READ_TIMEOUT`],
//! four routes. It serves operators and load balancers on a trusted network; it never
//! touches the relay, and it answers nothing about stations beyond the metrics' counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::metrics::Metrics;

/// The largest request head read.
pub const MAX_HEAD: usize = 8192;
/// A request must arrive (and its answer be written) within this.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What the admin port answers from, shared with the proxy command.
#[derive(Debug)]
pub struct AdminState {
    pub metrics: Arc<Metrics>,
    ready: AtomicBool,
    drain: Notify,
}

impl AdminState {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        AdminState {
            metrics,
            ready: AtomicBool::new(true),
            drain: Notify::new(),
        }
    }

    /// Whether the proxy accepts chargers (`/readyz`).
    pub fn ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Draining from now on: `/readyz` answers 503.
    pub fn set_draining(&self) {
        self.ready.store(false, Ordering::Relaxed);
        self.metrics.draining.set(1);
    }

    /// `POST /drain` was asked (also true of a request before this is awaited).
    pub async fn drain_requested(&self) {
        self.drain.notified().await;
    }

    fn request_drain(&self) {
        self.set_draining();
        // `notify_one` keeps a permit when nobody waits yet.
        self.drain.notify_one();
    }
}

/// Serves the admin port until the task is dropped.
pub async fn serve(listener: TcpListener, state: Arc<AdminState>) {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                let state = state.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(READ_TIMEOUT, answer(tcp, &state)).await;
                });
            }
            // Out of descriptors and the like: wait, go on.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Reads the request head (up to the blank line); `None` when it is too large or cut.
async fn read_head(tcp: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    loop {
        let n = tcp.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return Some(buf);
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
    }
}

/// The status, content type and body for a method and path.
pub fn route(method: &str, path: &str, state: &AdminState) -> (u16, &'static str, String) {
    const TEXT: &str = "text/plain; charset=utf-8";
    // The query string does not matter to any route.
    let path = path.split('?').next().unwrap_or(path);
    match (method, path) {
        ("GET", "/metrics") => (
            200,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            state.metrics.encode(),
        ),
        ("GET", "/healthz") => (200, TEXT, "ok\n".into()),
        ("GET", "/readyz") if state.ready() => (200, TEXT, "ready\n".into()),
        ("GET", "/readyz") => (503, TEXT, "draining\n".into()),
        ("POST", "/drain") => {
            state.request_drain();
            (202, TEXT, "draining\n".into())
        }
        (_, "/metrics" | "/healthz" | "/readyz" | "/drain") => {
            (405, TEXT, "method not allowed\n".into())
        }
        _ => (404, TEXT, "not found\n".into()),
    }
}

async fn answer(mut tcp: TcpStream, state: &AdminState) {
    let (status, ctype, body) = match read_head(&mut tcp).await {
        Some(head) => {
            let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
            let line = String::from_utf8_lossy(line);
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(m), Some(p), Some(v)) if v.starts_with("HTTP/1.") => route(m, p, state),
                _ => (400, "text/plain", "bad request\n".into()),
            }
        }
        None => (400, "text/plain", "bad request\n".into()),
    };
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Bad Request",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = tcp.write_all(head.as_bytes()).await;
    let _ = tcp.write_all(body.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_answer_health_readiness_and_drain() {
        let s = AdminState::new(Arc::new(Metrics::new()));
        assert_eq!(route("GET", "/healthz", &s).0, 200);
        assert_eq!(route("GET", "/readyz", &s).0, 200);
        assert_eq!(route("GET", "/drain", &s).0, 405);
        assert_eq!(route("GET", "/nope", &s).0, 404);
        let (status, _, body) = route("GET", "/metrics?x=1", &s);
        assert_eq!(status, 200);
        assert!(body.contains("ocpp_inspector_draining 0"), "{body}");
        assert_eq!(route("POST", "/drain", &s).0, 202);
        assert_eq!(route("GET", "/readyz", &s).0, 503);
        assert_eq!(route("GET", "/healthz", &s).0, 200, "alive while draining");
        assert!(
            route("GET", "/metrics", &s)
                .2
                .contains("ocpp_inspector_draining 1")
        );
    }
}
