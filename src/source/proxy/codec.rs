//! The relay's own RFC 6455 framing, used once both handshakes are done (the proxy reads and
//! writes the handshakes itself, see [`super::handshake`]). It exists so that a connection's
//! memory goes back to a small fixed size after every message, whatever its size: the
//! [`Reader`] keeps one fixed read buffer (`read_buffer` bytes) for headers and small
//! payloads, and reads a data message's payload into an allocation of exactly its size, paid
//! from the proxy's in-flight [`Budget`] before a byte of it is read and given back when the
//! relay drops the message ([`Charge`]). A fragmented message's allocation grows as its
//! frames come, by at least half at a time ([`grow_to`]), and the budget pays for what is
//! really held: its capacity, and while the allocator moves it to a larger block, the old
//! block too (taken before the move, the old block's share given back after it), so the
//! memory of messages in flight stays within `--in-flight-budget` whatever the fragmentation.
//! The [`Writer`] writes the header and payload through
//! a scratch buffer of at most [`SCRATCH`] bytes (masking there toward the CSMS), with no
//! second copy of the payload.
//!
//! The reader enforces RFC 6455 and reports a peer's fault with the close code the RFC asks
//! for ([`Fault`]): RSV bits (no extension is ever negotiated), reserved opcodes, a frame
//! masked the wrong way for the side it came from (§5.1: a client masks, a server does not),
//! a fragmented or over-125-byte control frame, a continuation with no message to continue
//! or a new data frame inside a fragmented message, a 64-bit length with its top bit set, a
//! 1-byte close payload, a close code that may not be sent (§7.4) and invalid UTF-8 in a
//! close reason (1002 / 1007); invalid UTF-8 in a text message (1007); a message over
//! `max_message` (1009, judged from the headers, before any payload is read). Control frames
//! between the fragments of a data message are returned on their own, in order.
//!
//! It never answers anything itself (no automatic pong or close reply): what goes out is what
//! the relay sends. Text is returned as the very bytes that arrived (validated, not
//! re-encoded). Both halves are cancel-safe: every bit of progress is kept in the struct
//! between awaits, so a `select!` that drops a pending [`Reader::next`] loses no bytes, and a
//! write cut off by its timeout is finished before anything else is written.

use std::io;
use std::sync::Arc;

use bytes::{BufMut, Bytes};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::io::{Budget, FREE_PER_MESSAGE};

/// Frame opcodes (RFC 6455 §5.2).
pub(crate) mod op {
    pub const CONTINUATION: u8 = 0x0;
    pub const TEXT: u8 = 0x1;
    pub const BINARY: u8 = 0x2;
    pub const CLOSE: u8 = 0x8;
    pub const PING: u8 = 0x9;
    pub const PONG: u8 = 0xA;
}

/// The largest payload of a control frame (§5.5).
pub(crate) const MAX_CONTROL: u64 = 125;

/// The writer's scratch buffer, at most: a frame's header and (masked) payload go out through
/// it in pieces of this size.
pub(crate) const SCRATCH: usize = 16 << 10;

/// The proxy's role on one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Toward the charger: its frames must be masked, ours are not.
    Server,
    /// Toward the CSMS: its frames must not be masked, ours are.
    Client,
}

/// One frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub fin: bool,
    /// RSV1-3 (bits 6-4 of the first byte, shifted down).
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub len: u64,
}

/// Parses the header at the front of `b`: the header and its length in bytes, or `None` when
/// `b` does not hold all of it yet. Judges nothing (see [`check`]).
pub(crate) fn parse_header(b: &[u8]) -> Option<(Header, usize)> {
    let (&b0, &b1) = (b.first()?, b.get(1)?);
    let (ext, len7) = match b1 & 0x7f {
        126 => (2, None),
        127 => (8, None),
        n => (0, Some(u64::from(n))),
    };
    let masked = b1 & 0x80 != 0;
    let need = 2 + ext + if masked { 4 } else { 0 };
    if b.len() < need {
        return None;
    }
    let len = match len7 {
        Some(n) => n,
        None if ext == 2 => u64::from(u16::from_be_bytes([b[2], b[3]])),
        None => {
            let mut l = [0u8; 8];
            l.copy_from_slice(&b[2..10]);
            u64::from_be_bytes(l)
        }
    };
    let mask = masked.then(|| {
        let at = 2 + ext;
        [b[at], b[at + 1], b[at + 2], b[at + 3]]
    });
    Some((
        Header {
            fin: b0 & 0x80 != 0,
            rsv: (b0 >> 4) & 0x07,
            opcode: b0 & 0x0f,
            mask,
            len,
        },
        need,
    ))
}

/// Writes `h` into `out` in its shortest form; its length in bytes (2 to 14).
pub(crate) fn encode_header(h: &Header, out: &mut [u8; 14]) -> usize {
    out[0] = (u8::from(h.fin) << 7) | ((h.rsv & 0x07) << 4) | (h.opcode & 0x0f);
    let m = if h.mask.is_some() { 0x80 } else { 0 };
    let mut n = 2;
    if h.len < 126 {
        out[1] = m | h.len as u8;
    } else if let Ok(l) = u16::try_from(h.len) {
        out[1] = m | 126;
        out[2..4].copy_from_slice(&l.to_be_bytes());
        n = 4;
    } else {
        out[1] = m | 127;
        out[2..10].copy_from_slice(&h.len.to_be_bytes());
        n = 10;
    }
    if let Some(k) = h.mask {
        out[n..n + 4].copy_from_slice(&k);
        n += 4;
    }
    n
}

/// XORs `data` with `key`, `data[0]` being byte `offset` of the frame's payload (§5.3).
pub(crate) fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let k: [u8; 4] = std::array::from_fn(|i| key[(offset + i) % 4]);
    let wide = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let mut chunks = data.chunks_exact_mut(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        c.copy_from_slice(&(u64::from_ne_bytes(w) ^ wide).to_ne_bytes());
    }
    // The remainder starts at a multiple of 8 (so of 4) from `data[0]`.
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= k[i % 4];
    }
}

/// A peer's breach of RFC 6455: the close code to fail the connection with and what it was
/// (the wording goes into the recording's `fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault {
    pub code: u16,
    pub what: &'static str,
}

const fn fault(code: u16, what: &'static str) -> Fault {
    Fault { code, what }
}

pub(crate) const INVALID_UTF8: Fault =
    fault(1007, "invalid UTF-8 in a text message or close reason");
pub(crate) const TOO_BIG: Fault = fault(1009, "a message over the size limit");
pub(crate) const RSV: Fault = fault(1002, "RSV bits set with no extension negotiated");
pub(crate) const UNMASKED: Fault = fault(1002, "an unmasked frame from the client");
pub(crate) const MASKED: Fault = fault(1002, "a masked frame from the server");
pub(crate) const FRAGMENTED_CONTROL: Fault = fault(1002, "a fragmented control frame");
pub(crate) const CONTROL_TOO_BIG: Fault = fault(1002, "a control frame over 125 bytes");
pub(crate) const RESERVED_OPCODE: Fault = fault(1002, "a reserved opcode");
pub(crate) const BAD_CONTINUATION: Fault = fault(1002, "a continuation frame out of place");
pub(crate) const LENGTH_TOP_BIT: Fault =
    fault(1002, "a 64-bit payload length with its top bit set");
pub(crate) const CLOSE_ONE_BYTE: Fault = fault(1002, "a close frame with a 1-byte payload");
pub(crate) const BAD_CLOSE_CODE: Fault =
    fault(1002, "a close code that may not be sent (RFC 6455 §7.4)");

/// Whether a peer may send close code `code`: §7.4.1's codes and those the IANA "WebSocket
/// Close Code Number" registry added since (1012 Service Restart, 1013 Try Again Later, 1014
/// Bad Gateway), and 3000-4999 (§7.4.2: registered and private use). 1004 (reserved), 1005,
/// 1006 and 1015 (never sent, §7.4.1), anything below 1000 or from 5000 on, the unassigned
/// 1016-1999 and 2000-2999 (for extensions, none negotiated) may not be sent.
pub(crate) fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Judges a header: `role` is the proxy's on this socket, `in_message` whether a fragmented
/// data message is being read and `so_far` its payload bytes, `max` the largest message.
pub(crate) fn check(
    h: &Header,
    role: Role,
    in_message: bool,
    so_far: u64,
    max: usize,
) -> Result<(), Fault> {
    if h.rsv != 0 {
        return Err(RSV);
    }
    match (role, h.mask.is_some()) {
        (Role::Server, false) => return Err(UNMASKED),
        (Role::Client, true) => return Err(MASKED),
        _ => {}
    }
    if h.len >> 63 != 0 {
        return Err(LENGTH_TOP_BIT);
    }
    match h.opcode {
        op::CLOSE | op::PING | op::PONG => {
            if !h.fin {
                return Err(FRAGMENTED_CONTROL);
            }
            if h.len > MAX_CONTROL {
                return Err(CONTROL_TOO_BIG);
            }
            if h.opcode == op::CLOSE && h.len == 1 {
                return Err(CLOSE_ONE_BYTE);
            }
            Ok(())
        }
        op::CONTINUATION | op::TEXT | op::BINARY => {
            if (h.opcode == op::CONTINUATION) != in_message {
                return Err(BAD_CONTINUATION);
            }
            let max = u64::try_from(max).unwrap_or(u64::MAX);
            if so_far.saturating_add(h.len) > max {
                return Err(TOO_BIG);
            }
            Ok(())
        }
        _ => Err(RESERVED_OPCODE),
    }
}

/// A close frame's code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CloseFrame {
    pub code: u16,
    pub reason: Utf8Bytes,
}

impl CloseFrame {
    pub fn new(code: u16, reason: &'static str) -> Self {
        CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        }
    }

    /// Reads a close payload (already length-checked: 0 or at least 2 bytes).
    fn parse(payload: &[u8]) -> Result<Option<CloseFrame>, Fault> {
        let [a, b, reason @ ..] = payload else {
            return Ok(None);
        };
        let code = u16::from_be_bytes([*a, *b]);
        if !close_code_allowed(code) {
            return Err(BAD_CLOSE_CODE);
        }
        let reason =
            Utf8Bytes::try_from(Bytes::copy_from_slice(reason)).map_err(|_| INVALID_UTF8)?;
        Ok(Some(CloseFrame { code, reason }))
    }
}

/// A whole message (or control frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Msg {
    Text(Utf8Bytes),
    Binary(Bytes),
    Ping(Bytes),
    Pong(Bytes),
    Close(Option<CloseFrame>),
}

impl Msg {
    /// Its opcode and payload as one frame carries it.
    fn frame(&self) -> (u8, Bytes) {
        match self {
            Msg::Text(t) => (op::TEXT, Bytes::from(t.clone())),
            Msg::Binary(b) => (op::BINARY, b.clone()),
            Msg::Ping(b) => (op::PING, b.clone()),
            Msg::Pong(b) => (op::PONG, b.clone()),
            Msg::Close(None) => (op::CLOSE, Bytes::new()),
            Msg::Close(Some(f)) => {
                let mut p = Vec::with_capacity(2 + f.reason.len());
                p.extend_from_slice(&f.code.to_be_bytes());
                p.extend_from_slice(f.reason.as_bytes());
                (op::CLOSE, Bytes::from(p))
            }
        }
    }
}

/// In-flight budget held by a message: given back when dropped.
#[derive(Debug)]
pub(crate) struct Charge {
    budget: Arc<Budget>,
    n: usize,
}

impl Charge {
    fn new(budget: &Arc<Budget>) -> Self {
        Charge {
            budget: budget.clone(),
            n: 0,
        }
    }

    /// The budget bytes it holds.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.n
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.give_back(self.n);
    }
}

/// A message read, with what it holds of the budget (keep it until the message is
/// forwarded).
#[derive(Debug)]
pub(crate) struct Received {
    pub msg: Msg,
    /// A data message that came in more than one frame.
    pub fragmented: bool,
    /// Held for its `Drop`: the budget goes back with the message.
    #[cfg_attr(not(test), allow(dead_code, reason = "held for its Drop"))]
    pub charge: Charge,
}

/// Why [`Reader::next`] returned no message.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer broke RFC 6455.
    Fault(Fault),
    /// A frame's payload waited the budget's wait limit for room; the message's payload bytes
    /// read so far.
    Starved(u64),
    /// The connection ended (cleanly between frames, or not) or failed.
    Io(io::Error),
    /// A close was read or a fault found already: nothing more is read.
    Ended,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Fault(x) => write!(f, "{} ({})", x.what, x.code),
            ReadError::Starved(n) => write!(f, "in-flight budget full after {n} bytes"),
            ReadError::Io(e) => e.fmt(f),
            ReadError::Ended => f.write_str("the connection was closed"),
        }
    }
}

/// A data message's allocation growing to `to` bytes for its next frame. While the allocator
/// moves it, the old block and the new one are both held, so `owed` pays for both (less the
/// free part), and what is not `keep` is given back once it has moved.
#[derive(Debug, Clone, Copy)]
struct Grow {
    to: usize,
    /// Budget the message holds once grown (its capacity less the free part).
    keep: usize,
}

/// The capacity a message's allocation grows to when `need` bytes do not fit in `cap`: the
/// first frame's size exactly (an unfragmented message is one exact allocation), then by at
/// least half again, so a message in many small fragments is moved only a few times (each
/// move is paid as two blocks); never past `max` (the largest message, which `need` is
/// within).
fn grow_to(cap: usize, need: usize, max: usize) -> usize {
    if cap == 0 {
        need
    } else {
        need.max(cap.saturating_add(cap / 2).min(max))
    }
}

/// The data message being read (possibly over several frames). Its allocation's capacity,
/// less [`FREE_PER_MESSAGE`], is what `charge` holds of the budget.
struct Partial {
    opcode: u8,
    data: Vec<u8>,
    frames: u32,
    charge: Charge,
}

impl Partial {
    /// Grows the allocation as `g` says, with `paid` bytes just taken from the budget (for
    /// the old and the new block while it moves): the message then holds `g.keep`, and
    /// the rest goes back.
    fn grow(&mut self, g: Grow, paid: usize) {
        let held = self.charge.n + paid;
        self.data
            .reserve_exact(g.to.saturating_sub(self.data.len()));
        self.charge.n = g.keep.min(held);
        self.charge.budget.give_back(held - self.charge.n);
    }
}

/// The frame whose payload is being read.
struct Frame {
    h: Header,
    /// Payload bytes of this frame read so far.
    read: u64,
    /// Budget still to take before its payload is read (data frames): what the message's
    /// allocation grows by, and the old allocation while it is moved ([`Grow`]).
    owed: usize,
    /// How the message's allocation grows for this frame, once `owed` is paid.
    grow: Option<Grow>,
    /// A control frame's payload (at most 125 bytes).
    control: Vec<u8>,
}

/// Reads messages from one socket (see the module's doc).
pub(crate) struct Reader<R> {
    io: R,
    role: Role,
    max_message: usize,
    budget: Arc<Budget>,
    /// Bytes read and not parsed yet are `buf[start..end]`.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    frame: Option<Frame>,
    message: Option<Partial>,
    /// Since a budget wait began: the wait limit is counted from it across cancellations.
    wait_until: Option<tokio::time::Instant>,
    ended: bool,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// A reader of `io`, whose first bytes (`read_ahead`, read with the handshake) are parsed
    /// first. Its buffer is `read_buffer` bytes (at least 14, the largest header, and as
    /// large as `read_ahead`).
    pub fn new(
        io: R,
        role: Role,
        read_ahead: &[u8],
        read_buffer: usize,
        max_message: usize,
        budget: &Arc<Budget>,
    ) -> Self {
        let size = read_buffer.max(read_ahead.len()).max(14);
        let mut buf = vec![0u8; size].into_boxed_slice();
        buf[..read_ahead.len()].copy_from_slice(read_ahead);
        Reader {
            io,
            role,
            max_message,
            budget: budget.clone(),
            buf,
            start: 0,
            end: read_ahead.len(),
            frame: None,
            message: None,
            wait_until: None,
            ended: false,
        }
    }

    /// The budget its messages are paid from.
    pub fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    #[cfg(test)]
    /// Bytes this reader keeps between messages: its fixed buffer, and what the message
    /// being read holds (its payload allocation).
    pub fn retained(&self) -> usize {
        self.buf.len()
            + self.message.as_ref().map_or(0, |m| m.data.capacity())
            + self.frame.as_ref().map_or(0, |f| f.control.capacity())
    }

    /// The next message, control frame or fault. Cancel-safe.
    pub async fn next(&mut self) -> Result<Received, ReadError> {
        if self.ended {
            return Err(ReadError::Ended);
        }
        let r = self.read_message().await;
        if matches!(
            r,
            Err(ReadError::Fault(_))
                | Ok(Received {
                    msg: Msg::Close(_),
                    ..
                })
        ) {
            self.ended = true;
        }
        r
    }

    async fn read_message(&mut self) -> Result<Received, ReadError> {
        loop {
            if self.frame.is_none() {
                match parse_header(&self.buf[self.start..self.end]) {
                    Some((h, n)) => {
                        self.start += n;
                        self.begin(h).map_err(ReadError::Fault)?;
                    }
                    None => {
                        self.fill().await?;
                        continue;
                    }
                }
            }
            let Some(frame) = &mut self.frame else {
                continue;
            };
            if frame.owed > 0 {
                self.pay().await?;
                continue;
            }
            if frame.read < frame.h.len {
                self.read_payload().await?;
                continue;
            }
            if let Some(r) = self.end_frame()? {
                return Ok(r);
            }
        }
    }

    /// Starts the frame of header `h`.
    fn begin(&mut self, h: Header) -> Result<(), Fault> {
        let so_far = self.message.as_ref().map_or(0, |m| m.data.len() as u64);
        check(
            &h,
            self.role,
            self.message.is_some(),
            so_far,
            self.max_message,
        )?;
        let mut owed = 0;
        let mut grow = None;
        if h.opcode < 8 {
            let m = self.message.get_or_insert_with(|| Partial {
                opcode: h.opcode,
                data: Vec::new(),
                frames: 0,
                charge: Charge::new(&self.budget),
            });
            m.frames += 1;
            // Within `max_message` (checked), so within usize.
            let need = usize::try_from(so_far.saturating_add(h.len)).unwrap_or(usize::MAX);
            let cap = m.data.capacity();
            if need > cap {
                let to = grow_to(cap, need, self.max_message);
                let keep = to.saturating_sub(FREE_PER_MESSAGE);
                // The old block and the new one while it moves; never more than the whole
                // budget (which holds at least one largest message), or a message over half
                // of it could never be read.
                let during = (cap + to)
                    .saturating_sub(FREE_PER_MESSAGE)
                    .min(self.budget.max().max(keep));
                owed = during.saturating_sub(m.charge.n);
                grow = Some(Grow { to, keep });
            }
        }
        let control = if h.opcode >= 8 {
            Vec::with_capacity(h.len as usize)
        } else {
            Vec::new()
        };
        self.frame = Some(Frame {
            h,
            read: 0,
            owed,
            grow: None,
            control,
        });
        if owed == 0 {
            // All of it within the free part: grown now.
            if let (Some(m), Some(g)) = (&mut self.message, grow) {
                m.grow(g, 0);
            }
        } else if let Some(f) = &mut self.frame {
            f.grow = grow;
        }
        Ok(())
    }

    /// Takes the frame's budget, waiting up to the budget's wait limit for room.
    async fn pay(&mut self) -> Result<(), ReadError> {
        let Some(frame) = &mut self.frame else {
            return Ok(());
        };
        let n = frame.owed;
        let budget = self.budget.clone();
        let deadline = *self
            .wait_until
            .get_or_insert_with(|| tokio::time::Instant::now() + budget.wait_limit());
        let mut sleep = std::pin::pin!(tokio::time::sleep_until(deadline));
        let got = std::future::poll_fn(|cx| {
            if budget.take_or_wait(n, cx) {
                std::task::Poll::Ready(true)
            } else if sleep.as_mut().poll(cx).is_ready() {
                std::task::Poll::Ready(false)
            } else {
                std::task::Poll::Pending
            }
        })
        .await;
        self.wait_until = None;
        let so_far = self.message.as_ref().map_or(0, |m| m.data.len() as u64);
        if !got {
            self.ended = true;
            return Err(ReadError::Starved(so_far));
        }
        frame.owed = 0;
        // Grown at once, in this same poll: the budget taken is never left unaccounted.
        match (&mut self.message, frame.grow.take()) {
            (Some(m), Some(g)) => m.grow(g, n),
            (Some(m), None) => m.charge.n += n,
            (None, _) => budget.give_back(n),
        }
        Ok(())
    }

    /// Reads more of the frame's payload: from the buffer, else from the socket (straight
    /// into the message's allocation when the rest is at least a buffer long).
    async fn read_payload(&mut self) -> Result<(), ReadError> {
        let Some(frame) = &mut self.frame else {
            return Ok(());
        };
        let left = frame.h.len - frame.read;
        let data = if frame.h.opcode >= 8 {
            &mut frame.control
        } else {
            match &mut self.message {
                Some(m) => &mut m.data,
                None => return Err(ReadError::Ended),
            }
        };
        // The room for all of it was made (and paid for) when the frame began: a data
        // message's allocation in `Partial::grow`, a control frame's with its capacity.
        let before = data.len();
        if self.start < self.end {
            let n = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(self.end - self.start);
            data.extend_from_slice(&self.buf[self.start..self.start + n]);
            self.start += n;
        } else if left >= self.buf.len() as u64 {
            let mut limited = (&mut *data).limit(usize::try_from(left).unwrap_or(usize::MAX));
            let n = self
                .io
                .read_buf(&mut limited)
                .await
                .map_err(ReadError::Io)?;
            if n == 0 {
                return Err(eof("in a frame's payload"));
            }
        } else {
            self.fill().await?;
            return Ok(());
        }
        if let Some(key) = frame.h.mask {
            let offset = usize::try_from(frame.read % 4).unwrap_or(0);
            apply_mask(&mut data[before..], key, offset);
        }
        frame.read += (data.len() - before) as u64;
        Ok(())
    }

    /// The frame is read whole: a message if it completes one.
    fn end_frame(&mut self) -> Result<Option<Received>, ReadError> {
        let Some(frame) = self.frame.take() else {
            return Ok(None);
        };
        let h = frame.h;
        let msg = match h.opcode {
            op::CLOSE => Msg::Close(CloseFrame::parse(&frame.control).map_err(ReadError::Fault)?),
            op::PING => Msg::Ping(Bytes::from(frame.control)),
            op::PONG => Msg::Pong(Bytes::from(frame.control)),
            _ => {
                if !h.fin {
                    return Ok(None);
                }
                let Some(m) = self.message.take() else {
                    return Ok(None);
                };
                let data = Bytes::from(m.data);
                let msg = if m.opcode == op::TEXT {
                    Msg::Text(
                        Utf8Bytes::try_from(data).map_err(|_| ReadError::Fault(INVALID_UTF8))?,
                    )
                } else {
                    Msg::Binary(data)
                };
                return Ok(Some(Received {
                    msg,
                    fragmented: m.frames > 1,
                    charge: m.charge,
                }));
            }
        };
        Ok(Some(Received {
            msg,
            fragmented: false,
            charge: Charge::new(&self.budget),
        }))
    }

    /// Reads more bytes into the buffer (moving what is left to its front first).
    async fn fill(&mut self) -> Result<(), ReadError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = self
            .io
            .read(&mut self.buf[self.end..])
            .await
            .map_err(ReadError::Io)?;
        if n == 0 {
            return Err(
                if self.end == 0 && self.frame.is_none() && self.message.is_none() {
                    ReadError::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed",
                    ))
                } else {
                    eof("in a frame")
                },
            );
        }
        self.end += n;
        Ok(())
    }
}

fn eof(where_: &str) -> ReadError {
    ReadError::Io(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("connection closed {where_}"),
    ))
}

/// A frame being written: its header, its payload and how far it got.
struct Out {
    head: [u8; 14],
    head_len: usize,
    payload: Bytes,
    mask: Option<[u8; 4]>,
    /// Bytes of header and payload written.
    pos: usize,
}

/// Writes messages to one socket (see the module's doc).
pub(crate) struct Writer<W> {
    io: W,
    role: Role,
    scratch: Vec<u8>,
    /// The frame being written (left by a write cut off by a timeout).
    pending: Option<Out>,
}

impl<W: AsyncWrite + Unpin> Writer<W> {
    pub fn new(io: W, role: Role) -> Self {
        Writer {
            io,
            role,
            scratch: Vec::new(),
            pending: None,
        }
    }

    #[cfg(test)]
    /// Bytes this writer keeps between messages.
    pub fn retained(&self) -> usize {
        self.scratch.capacity()
    }

    /// Writes `msg` as one frame and flushes it. Cancel-safe: a frame cut off is finished
    /// before the next one (`msg` itself may then not have been started).
    pub async fn send(&mut self, msg: &Msg) -> io::Result<()> {
        self.finish().await?;
        let (opcode, payload) = msg.frame();
        let mask = match self.role {
            Role::Client => Some(rand::random::<[u8; 4]>()),
            Role::Server => None,
        };
        let h = Header {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            len: payload.len() as u64,
        };
        let mut head = [0u8; 14];
        let head_len = encode_header(&h, &mut head);
        self.pending = Some(Out {
            head,
            head_len,
            payload,
            mask,
            pos: 0,
        });
        self.finish().await
    }

    /// Writes out the pending frame, if any, and flushes.
    async fn finish(&mut self) -> io::Result<()> {
        let Writer {
            io,
            scratch,
            pending,
            ..
        } = self;
        let Some(out) = pending else {
            return Ok(());
        };
        let total = out.head_len + out.payload.len();
        while out.pos < total {
            let n = if out.mask.is_none() && out.pos >= out.head_len {
                // Unmasked: straight from the payload.
                io.write(&out.payload[out.pos - out.head_len..]).await?
            } else {
                // The header's rest and the next piece of payload, masked, in the scratch.
                scratch.clear();
                if scratch.capacity() < SCRATCH.min(total) {
                    scratch.reserve_exact(SCRATCH.min(total));
                }
                if out.pos < out.head_len {
                    scratch.extend_from_slice(&out.head[out.pos..out.head_len]);
                }
                let from = out.pos.saturating_sub(out.head_len);
                let take = (SCRATCH.saturating_sub(scratch.len())).min(out.payload.len() - from);
                let at = scratch.len();
                scratch.extend_from_slice(&out.payload[from..from + take]);
                if let Some(key) = out.mask {
                    apply_mask(&mut scratch[at..], key, from);
                }
                io.write(scratch).await?
            };
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            out.pos += n;
        }
        io.flush().await?;
        *pending = None;
        Ok(())
    }

    /// Finishes a pending frame and shuts the socket's writing down (FIN, or TLS close_notify
    /// and FIN).
    pub async fn shutdown(&mut self) -> io::Result<()> {
        self.finish().await?;
        self.io.shutdown().await
    }
}

#[cfg(test)]
mod tests;
