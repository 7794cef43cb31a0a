//! One stream type for every socket the proxy holds: plain TCP, TLS it terminated (from a
//! charger), or TLS it initiated (to a CSMS). Only delegates reads and writes; no buffering
//! of its own (the relay's framing, [`super::codec`], keeps the one fixed buffer).
//!
//! And the proxy's global [`Budget`] of message bytes in flight (read from a peer, not yet
//! forwarded). The first [`FREE_PER_MESSAGE`] bytes of each message are free (an OCPP
//! message is almost always smaller, so ordinary traffic never touches the shared counter);
//! beyond that, the codec reads a frame's payload only once the budget has room for all of
//! it, which pauses that peer only (TCP flow control holds its bytes in the kernel) until
//! another connection's message is forwarded. A frame that waited the budget's wait limit
//! fails its connection (the relay closes it with 1013, try again later).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A socket of the proxy, plain or TLS.
pub enum Io {
    Plain(TcpStream),
    /// TLS terminated here (a charger on `wss://`).
    Server(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// TLS to a `wss://` CSMS.
    Client(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// Bytes of each message read without asking the budget.
pub const FREE_PER_MESSAGE: usize = 16 << 10;

/// The proxy's budget of message bytes in flight, shared by every connection.
#[derive(Debug)]
pub struct Budget {
    max: usize,
    /// How long a read may wait for room before its connection is given up.
    wait_limit: Duration,
    used: AtomicUsize,
    peak: AtomicUsize,
    /// Some was taken since [`Budget::take_touched`] last looked.
    touched: AtomicBool,
    /// Reads waiting for room; all are woken when some is given back.
    waiters: Mutex<Vec<Waker>>,
}

impl Budget {
    pub fn new(max: usize, wait_limit: Duration) -> Arc<Budget> {
        Arc::new(Budget {
            max,
            wait_limit,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            touched: AtomicBool::new(false),
            waiters: Mutex::new(Vec::new()),
        })
    }

    /// The configured budget in bytes.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Bytes taken now.
    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The most bytes ever taken at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Whether some was taken since the last call (large messages went through).
    pub(crate) fn take_touched(&self) -> bool {
        self.touched.swap(false, Ordering::Relaxed)
    }

    /// Takes `n` bytes if there is room now (never waits).
    pub(crate) fn try_take(&self, n: usize) -> bool {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(n).filter(|&x| x <= self.max) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Ordering::Relaxed);
                    if n > 0 {
                        self.touched.store(true, Ordering::Relaxed);
                    }
                    return true;
                }
                Err(now) => cur = now,
            }
        }
    }

    /// How long a frame may wait for room before its connection is given up.
    pub(crate) fn wait_limit(&self) -> Duration {
        self.wait_limit
    }

    /// Takes `n` bytes, or registers the task to be woken when some are given back.
    pub(crate) fn take_or_wait(&self, n: usize, cx: &Context<'_>) -> bool {
        if self.try_take(n) {
            return true;
        }
        let mut waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        // Again under the lock: a give-back between the first try and here is not missed.
        if self.try_take(n) {
            return true;
        }
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        false
    }

    /// Gives back `n` bytes taken and wakes the reads waiting for room.
    pub(crate) fn give_back(&self, n: usize) {
        if n == 0 {
            return;
        }
        self.used.fetch_sub(n, Ordering::AcqRel);
        let waiting = std::mem::take(&mut *self.waiters.lock().unwrap_or_else(|p| p.into_inner()));
        for w in waiting {
            w.wake();
        }
    }
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Io::Plain(_) => "Io::Plain",
            Io::Server(_) => "Io::Server(TLS)",
            Io::Client(_) => "Io::Client(TLS)",
        })
    }
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Server(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Io::Client(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Server(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Io::Client(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Server(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Io::Client(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Server(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Io::Client(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_never_goes_over_and_gives_back_what_was_taken() {
        let b = Budget::new(100, Duration::from_secs(1));
        assert!(!b.take_touched(), "nothing taken yet");
        assert!(b.try_take(60));
        assert!(b.take_touched(), "taken since the last look");
        assert!(!b.take_touched(), "and only once");
        assert!(!b.try_take(41), "over the budget");
        assert!(b.try_take(40));
        assert_eq!((b.in_use(), b.peak()), (100, 100));
        b.give_back(60);
        assert_eq!(b.in_use(), 40);
        b.give_back(40);
        assert_eq!(b.in_use(), 0);
    }
}
