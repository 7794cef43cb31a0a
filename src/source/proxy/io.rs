//! One stream type for every socket the proxy holds: plain TCP, TLS it terminated (from a
//! charger), or TLS it initiated (to a CSMS). Only delegates reads and writes; no buffering
//! of its own, except the handshake bytes read ahead of the WebSocket layer (see
//! [`crate::source::proxy::handshake`]), which tungstenite is handed as already read.
//!
//! A relayed socket is [`Io::metered`]: it follows the WebSocket frame headers in the bytes
//! it reads (only the headers: lengths, opcode, FIN) and counts each message's payload
//! against the proxy's global [`Budget`] of message bytes in flight (read from a peer, not
//! yet forwarded). The first [`FREE_PER_MESSAGE`] bytes of each message are free (an OCPP
//! message is almost always smaller, so ordinary traffic never touches the shared counter);
//! beyond that, a frame's payload is read only once the budget has room for all of it, which
//! pauses that peer only (TCP flow control holds its bytes in the kernel) until another
//! connection's message is forwarded. A read that waited the budget's wait limit fails with
//! [`io::ErrorKind::OutOfMemory`], and the relay closes that connection (1013, try again
//! later). The same headers tell the relay which messages came fragmented ([`Done`]). It
//! never changes or holds back a byte for any other reason.

use std::collections::VecDeque;
use std::future::Future;
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
    /// One of the above, its reads counted against the in-flight budget.
    Metered(Box<Metered>),
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

    /// Takes `n` bytes, or registers the task to be woken when some are given back.
    fn take_or_wait(&self, n: usize, cx: &Context<'_>) -> bool {
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

/// One message (or control frame) the socket's bytes completed, as the frame headers said.
#[derive(Debug, Clone, Copy)]
pub struct Done {
    seq: u64,
    /// Budget bytes it holds.
    charge: usize,
    /// A data message that came in more than one frame (continuation frames).
    pub fragmented: bool,
}

/// What one metered socket holds, shared between its reads and the relay that forwards.
#[derive(Debug)]
pub struct Meter {
    budget: Arc<Budget>,
    ledger: Mutex<Ledger>,
    /// A read waited the budget's wait limit and failed.
    starved: AtomicBool,
}

/// The frame headers seen in the bytes read, and what each message holds of the budget.
#[derive(Debug, Default)]
struct Ledger {
    /// Header bytes of the frame being parsed.
    head: [u8; 14],
    head_len: usize,
    /// Payload bytes of the current frame not read yet.
    skip: u64,
    /// The data message being read: frames, payload bytes, budget held.
    frames: u32,
    bytes: u64,
    charge: usize,
    /// Messages whose last frame has been seen, not yet taken by the relay.
    done: VecDeque<Done>,
    next_seq: u64,
    /// Budget the headers asked for that the reader must take before reading more, and
    /// whose it is (`None`: the message being read).
    owed: usize,
    owed_for: Option<u64>,
    /// Budget held by messages the relay has taken and not finished.
    in_hand: usize,
}

fn lock(m: &Mutex<Ledger>) -> std::sync::MutexGuard<'_, Ledger> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ledger {
    /// Follows the frame headers through `bytes` (the stream as read, in order).
    fn scan(&mut self, mut bytes: &[u8], max: usize) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = usize::try_from(self.skip)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                self.skip -= n as u64;
                bytes = &bytes[n..];
                continue;
            }
            self.head[self.head_len] = bytes[0];
            self.head_len += 1;
            bytes = &bytes[1..];
            if self.head_len < 2 {
                continue;
            }
            let ext = match self.head[1] & 0x7f {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            let need = 2 + ext + if self.head[1] & 0x80 != 0 { 4 } else { 0 };
            if self.head_len < need {
                continue;
            }
            let len = match ext {
                0 => u64::from(self.head[1] & 0x7f),
                2 => u64::from(u16::from_be_bytes([self.head[2], self.head[3]])),
                _ => u64::from_be_bytes(self.head[2..10].try_into().unwrap_or([0xff; 8])),
            };
            self.head_len = 0;
            self.skip = len;
            self.frame(self.head[0] & 0x80 != 0, self.head[0] & 0x0f, len, max);
        }
    }

    fn frame(&mut self, fin: bool, opcode: u8, len: u64, max: usize) {
        let seq = self.next_seq;
        if opcode >= 8 {
            // A control frame (at most 125 bytes): a message of its own, even between the
            // frames of a data message.
            self.next_seq += 1;
            self.done.push_back(Done {
                seq,
                charge: 0,
                fragmented: false,
            });
            return;
        }
        let free_left = (FREE_PER_MESSAGE as u64).saturating_sub(self.bytes);
        self.bytes = self.bytes.saturating_add(len);
        self.frames += 1;
        let charge = usize::try_from(len.saturating_sub(free_left)).unwrap_or(usize::MAX);
        // Larger than the budget: larger than --max-message too, which tungstenite refuses.
        if charge <= max {
            self.owed += charge;
        }
        if fin {
            self.next_seq += 1;
            self.done.push_back(Done {
                seq,
                charge: std::mem::take(&mut self.charge),
                fragmented: self.frames > 1,
            });
            self.frames = 0;
            self.bytes = 0;
            self.owed_for = Some(seq);
        } else {
            self.owed_for = None;
        }
    }

    /// `n` bytes were taken for what is owed: they belong to the message that owed them,
    /// or go back at once if the relay is done with it already.
    fn paid(&mut self, n: usize) -> usize {
        match self.owed_for {
            None => {
                self.charge += n;
                0
            }
            Some(seq) => match self.done.iter_mut().find(|d| d.seq == seq) {
                Some(d) => {
                    d.charge += n;
                    0
                }
                None => n,
            },
        }
    }
}

impl Meter {
    /// The next message the relay got from this socket (in order: tungstenite yields each
    /// control frame and each whole data message once).
    pub fn take(&self) -> Option<Done> {
        let mut l = lock(&self.ledger);
        let d = l.done.pop_front()?;
        l.in_hand += d.charge;
        Some(d)
    }

    /// The relay is done with `d` (forwarded or dropped): its bytes leave the budget. (What
    /// the relay took and never finished leaves it when the connection ends.)
    pub fn finish(&self, d: Done) {
        lock(&self.ledger).in_hand -= d.charge;
        self.budget.give_back(d.charge);
    }

    /// Payload bytes of the data message being read so far.
    pub fn reading(&self) -> u64 {
        lock(&self.ledger).bytes
    }

    /// Whether a read gave up waiting for the budget.
    pub fn starved(&self) -> bool {
        self.starved.load(Ordering::Relaxed)
    }

    pub fn budget(&self) -> &Budget {
        &self.budget
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        let l = self.ledger.get_mut().unwrap_or_else(|p| p.into_inner());
        let held = l.charge + l.in_hand + l.done.iter().map(|d| d.charge).sum::<usize>();
        self.budget.give_back(held);
    }
}

/// A socket whose reads count against the budget.
pub struct Metered {
    inner: Io,
    meter: Arc<Meter>,
    /// Since when a read has been waiting for room.
    waiting: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Metered {
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let meter = &*self.meter;
        let owed = lock(&meter.ledger).owed;
        if owed > 0 {
            // A frame header asked for room: its payload is read only once it is taken
            // (whole, so two large messages never each hold half and wait for the other).
            if !meter.budget.take_or_wait(owed, cx) {
                let limit = meter.budget.wait_limit;
                let wait = self
                    .waiting
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                if wait.as_mut().poll(cx).is_ready() {
                    meter.starved.store(true, Ordering::Relaxed);
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::OutOfMemory,
                        "the in-flight budget stayed full for the wait limit",
                    )));
                }
                return Poll::Pending;
            }
            let back = {
                let mut l = lock(&meter.ledger);
                l.owed -= owed;
                l.paid(owed)
            };
            meter.budget.give_back(back);
        }
        self.waiting = None;
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            lock(&meter.ledger).scan(&buf.filled()[before..], meter.budget.max);
        }
        r
    }
}

impl Io {
    /// This socket with its reads counted against `budget`; `read_ahead` is what was read
    /// from it already (after the HTTP head) and goes to the WebSocket layer first.
    pub fn metered(self, budget: &Arc<Budget>, read_ahead: &[u8]) -> Io {
        let mut ledger = Ledger::default();
        ledger.scan(read_ahead, budget.max);
        Io::Metered(Box::new(Metered {
            inner: self,
            meter: Arc::new(Meter {
                budget: budget.clone(),
                ledger: Mutex::new(ledger),
                starved: AtomicBool::new(false),
            }),
            waiting: None,
        }))
    }

    /// The meter of a metered socket.
    pub fn meter(&self) -> Option<&Arc<Meter>> {
        match self {
            Io::Metered(m) => Some(&m.meter),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Io {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Io::Plain(_) => "Io::Plain",
            Io::Server(_) => "Io::Server(TLS)",
            Io::Client(_) => "Io::Client(TLS)",
            Io::Metered(_) => "Io::Metered",
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
            Io::Metered(m) => m.poll_read(cx, buf),
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
            Io::Metered(m) => Pin::new(&mut m.inner).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Server(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Io::Client(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Io::Metered(m) => Pin::new(&mut m.inner).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Server(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Io::Client(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Io::Metered(m) => Pin::new(&mut m.inner).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client frame header (masked) for `len` payload bytes, then the payload.
    fn frame(fin: bool, opcode: u8, len: usize) -> Vec<u8> {
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        match len {
            n if n < 126 => out.push(0x80 | n as u8),
            n if n < 65_536 => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[1, 2, 3, 4]);
        out.extend(std::iter::repeat_n(b'a', len));
        out
    }

    #[test]
    fn headers_are_followed_across_reads_and_fragments_are_noted() {
        let mut bytes = frame(true, 1, 20);
        bytes.extend(frame(false, 1, 300));
        bytes.extend(frame(true, 9, 4)); // a ping between the fragments
        bytes.extend(frame(true, 0, 70_000));
        let mut l = Ledger::default();
        // In reads of 7 bytes: a header may be cut anywhere.
        for chunk in bytes.chunks(7) {
            l.scan(chunk, usize::MAX);
        }
        let got: Vec<bool> = l.done.iter().map(|d| d.fragmented).collect();
        assert_eq!(got, [false, false, true], "text, ping, fragmented text");
        // 70,300 payload bytes in the fragmented message, the first 16 KiB free.
        assert_eq!(l.owed, 300 + 70_000 - FREE_PER_MESSAGE);
        assert_eq!(l.owed_for, Some(l.done[2].seq));
        assert_eq!((l.head_len, l.skip, l.frames), (0, 0, 0));
    }

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
        // A meter dropped with a message half read gives its share back.
        let m = Meter {
            budget: b.clone(),
            ledger: Mutex::new(Ledger {
                charge: 40,
                ..Ledger::default()
            }),
            starved: AtomicBool::new(false),
        };
        drop(m);
        assert_eq!(b.in_use(), 0);
    }
}
