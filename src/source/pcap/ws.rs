//! One TCP connection of a capture, read as OCPP over WebSocket: the HTTP upgrade (identity,
//! offered and chosen subprotocols, Basic-auth user, never the password; the side that sent
//! the upgrade request is the charger), then WebSocket frames: unmasking, fragmented
//! messages, control frames, close codes, permessage-deflate with and without context
//! takeover. A connection already open when the capture started is read from the first
//! segment that starts with a plausible frame; lost bytes become a gap record and the reader
//! resynchronises at the next segment that starts a frame. It judges nothing.

use std::collections::VecDeque;
use std::net::IpAddr;

use flate2::{Decompress, FlushDecompress, Status};

use super::tcp::{Chunk, HalfStream};
use crate::ocpp::Side;
use crate::source::event::HandshakeOf;
use crate::source::input::{self, Problem, Produced, Rec, RecKind};
use crate::source::proxy::handshake::parse_request;
use crate::time::Timestamp;

/// The largest message read (a bigger one is skipped with a problem).
const MAX_MESSAGE: usize = 16 << 20;
/// Segments of a connection without a handshake tried for a frame start before it counts
/// as not WebSocket.
const START_ATTEMPTS: u32 = 8;

/// Where output goes, and the packet it comes from.
pub struct Emit<'a> {
    pub out: &'a mut VecDeque<Produced>,
    pub pos: u64,
    pub at: Timestamp,
    /// The identity to use for connections the capture does not name (`--conn`).
    pub conn_flag: Option<&'a str>,
}

impl Emit<'_> {
    fn rec(&mut self, conn: &str, kind: RecKind) {
        self.out.push_back(Produced::Record {
            pos: self.pos,
            rec: Rec {
                at: self.at,
                conn: conn.to_owned(),
                kind,
            },
        });
    }

    fn problem(&mut self, message: String) {
        self.out.push_back(Produced::Problem(Problem {
            pos: self.pos,
            message: format!("packet {}: {message}", self.pos),
        }));
    }

    fn note(&mut self, message: String) {
        self.out.push_back(Produced::Note(message));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Nothing read yet.
    Start,
    /// The upgrade request or answer is being read.
    Http,
    Ws,
    /// Not OCPP over WebSocket (said once in a note); its bytes are dropped.
    Ignored,
}

/// One direction's frame reader.
#[derive(Default)]
struct Frames {
    buf: Vec<u8>,
    /// At a frame boundary (known since the handshake, or found again after a loss).
    synced: bool,
    msg: Vec<u8>,
    msg_op: Option<u8>,
    msg_compressed: bool,
    inflate: Option<Decompress>,
    /// The inflated message, and the compressed one with its tail put back (both reused
    /// from message to message).
    plain: Vec<u8>,
    deflated: Vec<u8>,
}

/// A TCP connection between two endpoints; half 0 goes from `ends[0]` to `ends[1]`.
pub struct Conn {
    pub ends: [(IpAddr, u16); 2],
    pub halves: [HalfStream; 2],
    phase: Phase,
    /// The half the charger sends on.
    charger: Option<usize>,
    http: [Vec<u8>; 2],
    identity: Option<String>,
    offered: Option<String>,
    user: Option<String>,
    /// Deflate negotiated; per half, whether each message starts a fresh context.
    deflate: Option<[bool; 2]>,
    frames: [Frames; 2],
    closed: bool,
    attempts: u32,
    /// A gap was said for the current loss (one gap record per lost span).
    gap_said: [bool; 2],
    /// Read from the middle (no handshake): not yet shown to carry OCPP-J (its first text
    /// message decides; the note is said then).
    mid_life_unconfirmed: bool,
    /// Read from the middle (no handshake seen), and whether the note that its compressed
    /// messages may refer to bytes from before the capture was said.
    from_middle: bool,
    history_note_said: bool,
    /// Set when the connection turned out not to be OCPP over WebSocket without a note
    /// of its own (plain HTTP, TLS, other protocols): counted by the importer.
    pub quietly_ignored: bool,
}

impl Conn {
    pub fn new(ends: [(IpAddr, u16); 2]) -> Self {
        Conn {
            ends,
            halves: Default::default(),
            phase: Phase::Start,
            charger: None,
            http: Default::default(),
            identity: None,
            offered: None,
            user: None,
            deflate: None,
            frames: Default::default(),
            closed: false,
            attempts: 0,
            gap_said: [false; 2],
            mid_life_unconfirmed: false,
            from_middle: false,
            history_note_said: false,
            quietly_ignored: false,
        }
    }

    fn describe(&self) -> String {
        let e = |(ip, port): (IpAddr, u16)| match ip {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        };
        format!("{} ↔ {}", e(self.ends[0]), e(self.ends[1]))
    }

    fn side_of(&self, half: usize) -> Side {
        if Some(half) == self.charger {
            Side::Charger
        } else {
            Side::Csms
        }
    }

    fn conn_name(&self, flag: Option<&str>) -> String {
        if let Some(id) = self.identity.as_ref().filter(|i| !i.is_empty()) {
            return id.clone();
        }
        if let Some(f) = flag {
            return f.to_owned();
        }
        let (ip, port) = self.ends[self.charger.unwrap_or(0)];
        match ip {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        }
    }

    /// Reads what both directions have ready.
    pub fn drain(&mut self, emit: &mut Emit<'_>) {
        for h in 0..2 {
            while let Some(chunk) = self.halves[h].ready.pop_front() {
                self.chunk(h, chunk, emit);
            }
            if self.halves[h].finished
                && self.phase == Phase::Ws
                && !self.closed
                && !self.mid_life_unconfirmed
            {
                // The TCP connection ended without a close frame.
                self.closed = true;
                let by = self.side_of(h);
                let name = self.conn_name(emit.conn_flag);
                emit.rec(
                    &name,
                    RecKind::Close {
                        code: None,
                        by: Some(by),
                    },
                );
            }
        }
    }

    fn chunk(&mut self, h: usize, chunk: Chunk, emit: &mut Emit<'_>) {
        match self.phase {
            Phase::Ignored => {}
            Phase::Start => match chunk {
                Chunk::Data {
                    bytes,
                    segment_start,
                } => {
                    if bytes.starts_with(b"GET ") {
                        self.phase = Phase::Http;
                        self.charger = Some(h);
                        self.http[h] = bytes;
                        self.http_progress(emit);
                    } else if segment_start && plausible_frame(&bytes, None) {
                        self.start_mid_life(h, bytes, emit);
                    } else {
                        self.attempts += 1;
                        if self.attempts >= START_ATTEMPTS || bytes.starts_with(b"\x16\x03") {
                            // TLS (wss, https) or another protocol.
                            self.phase = Phase::Ignored;
                            self.quietly_ignored = true;
                        }
                    }
                }
                Chunk::Lost(_) => {}
            },
            Phase::Http => match chunk {
                Chunk::Data { bytes, .. } => {
                    self.http[h].extend_from_slice(&bytes);
                    if self.http[h].len() > 64 * 1024 {
                        self.phase = Phase::Ignored;
                        emit.note(format!(
                            "{}: an HTTP head over 64 KiB; not read",
                            self.describe()
                        ));
                        return;
                    }
                    self.http_progress(emit);
                }
                Chunk::Lost(_) => {
                    self.phase = Phase::Ignored;
                    emit.problem(format!(
                        "{}: bytes of the WebSocket handshake are missing from the capture; connection not read",
                        self.describe()
                    ));
                }
            },
            Phase::Ws => match chunk {
                Chunk::Data {
                    bytes,
                    segment_start,
                } => {
                    let f = &mut self.frames[h];
                    if !f.synced {
                        let masked = self.charger.map(|c| c == h);
                        if segment_start && plausible_frame(&bytes, masked) {
                            f.synced = true;
                            f.buf.clear();
                        } else {
                            return;
                        }
                    }
                    self.gap_said[h] = false;
                    let buf = &mut self.frames[h].buf;
                    if buf.is_empty() && buf.capacity() < bytes.len() {
                        *buf = bytes;
                    } else {
                        buf.extend_from_slice(&bytes);
                    }
                    self.read_frames(h, emit);
                }
                Chunk::Lost(n) => self.lost(h, n, emit, "capture loss"),
            },
        }
    }

    /// Bytes are missing on half `h`: a gap record, and the reader waits for a frame start.
    fn lost(&mut self, h: usize, n: u64, emit: &mut Emit<'_>, reason: &str) {
        let f = &mut self.frames[h];
        f.synced = false;
        f.buf.clear();
        f.msg.clear();
        f.msg_op = None;
        f.inflate = None;
        if !self.gap_said[h] {
            self.gap_said[h] = true;
            let side = self.side_of(h);
            let reason = if n > 0 {
                format!("{reason}: {n} byte(s) from the {side} missing")
            } else {
                format!("{reason} from the {side}")
            };
            self.say_gap(h, emit, reason);
        }
    }

    /// The capture's clock jumped (see [`crate::source::pcap`]): frames of this open
    /// WebSocket may be missing, so a gap record says so.
    pub fn time_jump(&mut self, emit: &mut Emit<'_>, reason: &str) {
        if self.phase == Phase::Ws {
            self.say_gap(0, emit, reason.to_owned());
        }
    }

    /// A gap record for this connection (frames of half `h` are missing).
    fn say_gap(&mut self, _h: usize, emit: &mut Emit<'_>, reason: String) {
        if self.closed || self.mid_life_unconfirmed {
            return;
        }
        let name = self.conn_name(emit.conn_flag);
        emit.rec(
            &name,
            RecKind::Gap {
                reason: Some(reason),
                frames: None,
            },
        );
    }

    fn start_mid_life(&mut self, h: usize, bytes: Vec<u8>, emit: &mut Emit<'_>) {
        let masked = bytes.get(1).is_some_and(|b| b & 0x80 != 0);
        // Only a charger masks its frames.
        self.charger = Some(if masked { h } else { 1 - h });
        self.phase = Phase::Ws;
        self.mid_life_unconfirmed = true;
        self.from_middle = true;
        let f = &mut self.frames[h];
        f.synced = true;
        f.buf = bytes;
        self.read_frames(h, emit);
    }

    fn http_progress(&mut self, emit: &mut Emit<'_>) {
        let Some(c) = self.charger else { return };
        let s = 1 - c;
        let Some(req_end) = head_end(&self.http[c]) else {
            return;
        };
        if self.identity.is_none() {
            match parse_request(&self.http[c][..req_end]) {
                Ok(req) => {
                    self.identity = Some(req.identity);
                    self.offered = req.offered;
                    self.user = req.basic_auth_user;
                }
                Err(_) => {
                    let head =
                        String::from_utf8_lossy(&self.http[c][..req_end]).to_ascii_lowercase();
                    if !head.contains("upgrade: websocket") {
                        // Plain HTTP (a web interface, an API): not ours.
                        self.phase = Phase::Ignored;
                        self.quietly_ignored = true;
                        return;
                    }
                    // An upgrade our parser would refuse (no identity in the path, …): the
                    // answer's subprotocol still decides whether it is OCPP.
                    self.identity = Some(String::new());
                }
            }
        }
        let Some(resp_end) = head_end(&self.http[s]) else {
            return;
        };
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        let parsed = resp.parse(&self.http[s][..resp_end]);
        let name = self.conn_name(emit.conn_flag);
        if !matches!(parsed, Ok(httparse::Status::Complete(_))) {
            self.phase = Phase::Ignored;
            emit.problem(format!(
                "{name}: the answer to the WebSocket upgrade is not HTTP; connection not read"
            ));
            return;
        }
        let status = resp.code.unwrap_or(0);
        if status != 101 {
            emit.note(format!(
                "{name}: the upgrade was refused with HTTP {status}; no WebSocket on {}",
                self.describe()
            ));
            // The charger may try again on the same connection.
            self.http = Default::default();
            self.identity = None;
            self.phase = Phase::Start;
            self.charger = None;
            return;
        }
        let mut chosen: Option<String> = None;
        let mut deflate = None;
        for h in resp.headers.iter() {
            let v = String::from_utf8_lossy(h.value).trim().to_owned();
            if h.name.eq_ignore_ascii_case("sec-websocket-protocol") {
                chosen = Some(v);
            } else if h.name.eq_ignore_ascii_case("sec-websocket-extensions") {
                deflate = deflate_params(&v).or(deflate);
            }
        }
        let ocpp = |s: &Option<String>| {
            s.as_deref()
                .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("ocpp")))
        };
        if !ocpp(&chosen) && !ocpp(&self.offered) {
            self.phase = Phase::Ignored;
            emit.note(format!(
                "{name} ({}): a WebSocket without an OCPP subprotocol (offered {}, chosen {}); not OCPP traffic, not read",
                self.describe(),
                self.offered.as_deref().unwrap_or("none"),
                chosen.as_deref().unwrap_or("none")
            ));
            return;
        }
        // Per half: client_no_context_takeover for the charger's, server_… for the CSMS's.
        self.deflate = deflate.map(|(client_fresh, server_fresh)| {
            let mut fresh = [server_fresh; 2];
            fresh[c] = client_fresh;
            fresh
        });
        emit.rec(
            &name,
            RecKind::Open(HandshakeOf {
                subprotocol: chosen,
                offered_subprotocols: self.offered.clone(),
                basic_auth_user: self.user.clone(),
                scheme: Some("ws".into()),
                ..HandshakeOf::default()
            }),
        );
        self.phase = Phase::Ws;
        // Bytes after the heads are the first frames.
        let rest_c = self.http[c].split_off(req_end);
        let rest_s = self.http[s].split_off(resp_end);
        self.http = Default::default();
        for (h, rest) in [(c, rest_c), (s, rest_s)] {
            self.frames[h].synced = true;
            self.frames[h].buf = rest;
            self.read_frames(h, emit);
        }
    }

    fn read_frames(&mut self, h: usize, emit: &mut Emit<'_>) {
        // Taken out while its frames are read (unmasked in place, handed on as slices).
        let mut buf = std::mem::take(&mut self.frames[h].buf);
        let mut at = 0;
        loop {
            let head = match frame_head(&buf[at..]) {
                Ok(Some(head)) => head,
                Ok(None) => break,
                Err(why) => {
                    emit.problem(format!(
                        "{}: {why}; reading resumes at the next frame start",
                        self.conn_name(emit.conn_flag)
                    ));
                    buf.clear();
                    self.frames[h].buf = buf;
                    self.lost(h, 0, emit, "unreadable WebSocket frame");
                    return;
                }
            };
            if head.len > MAX_MESSAGE {
                emit.problem(format!(
                    "{}: a WebSocket frame of {} bytes (over {MAX_MESSAGE}); skipped",
                    self.conn_name(emit.conn_flag),
                    head.len
                ));
                buf.clear();
                self.frames[h].buf = buf;
                self.lost(h, 0, emit, "oversized WebSocket frame");
                return;
            }
            let total = head.header_len + head.len;
            if buf.len() - at < total {
                break;
            }
            let payload = &mut buf[at + head.header_len..at + total];
            if let Some(key) = head.mask {
                unmask(payload, key);
            }
            self.frame(h, head, payload, emit);
            at += total;
        }
        buf.drain(..at);
        self.frames[h].buf = buf;
    }

    fn frame(&mut self, h: usize, head: Head, payload: &[u8], emit: &mut Emit<'_>) {
        if self.phase == Phase::Ignored {
            return;
        }
        match head.opcode {
            0x8 => {
                if self.mid_life_unconfirmed {
                    self.closed = true;
                } else if !self.closed {
                    self.closed = true;
                    let code =
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    let name = self.conn_name(emit.conn_flag);
                    let by = Some(self.side_of(h));
                    emit.rec(&name, RecKind::Close { code, by });
                }
            }
            0x9 | 0xA => {}
            0x0..=0x2 => {
                if self.closed {
                    return;
                }
                let f = &mut self.frames[h];
                if head.opcode != 0 {
                    if f.msg_op.is_some() {
                        let name = self.conn_name(emit.conn_flag);
                        let side = self.side_of(h);
                        emit.problem(format!(
                            "{name}: the {side} started a new message before finishing a fragmented one; the unfinished one is dropped"
                        ));
                    }
                    let f = &mut self.frames[h];
                    f.msg.clear();
                    f.msg_op = Some(head.opcode);
                    f.msg_compressed = head.rsv1;
                } else if f.msg_op.is_none() {
                    // A continuation of a message begun before the capture or a loss.
                    return;
                }
                let f = &mut self.frames[h];
                // A message in one frame is read where it lies; fragments are gathered.
                let single = head.fin && f.msg.is_empty();
                if !single {
                    if f.msg.len() + payload.len() > MAX_MESSAGE {
                        let name = self.conn_name(emit.conn_flag);
                        emit.problem(format!(
                            "{name}: a message over {MAX_MESSAGE} bytes; skipped"
                        ));
                        let f = &mut self.frames[h];
                        f.msg.clear();
                        f.msg_op = None;
                        return;
                    }
                    f.msg.extend_from_slice(payload);
                }
                if head.fin {
                    let op = f.msg_op.take().unwrap_or(1);
                    let compressed = f.msg_compressed;
                    let mut msg = std::mem::take(&mut f.msg);
                    let mut plain = std::mem::take(&mut f.plain);
                    let data = if single { payload } else { &msg[..] };
                    self.message(h, op, compressed, data, &mut plain, emit);
                    msg.clear();
                    let f = &mut self.frames[h];
                    f.msg = msg;
                    f.plain = plain;
                }
            }
            _ => {}
        }
    }

    /// A whole message (`op` text or binary) from half `h`; `plain` is room for it inflated.
    fn message(
        &mut self,
        h: usize,
        op: u8,
        compressed: bool,
        data: &[u8],
        plain: &mut Vec<u8>,
        emit: &mut Emit<'_>,
    ) {
        let side = self.side_of(h);
        let data = if compressed {
            let fresh = self.deflate.is_none_or(|d| d[h]);
            let f = &mut self.frames[h];
            match inflate(&mut f.inflate, &mut f.deflated, data, fresh, plain) {
                Ok(()) => &plain[..],
                Err(why) if self.from_middle => {
                    // The window the sender compresses against began before the capture:
                    // not an error in the input, only bytes it does not hold.
                    self.frames[h].inflate = None;
                    if !self.history_note_said {
                        self.history_note_said = true;
                        emit.note(format!(
                            "{} ({}): read from the middle, its compressed messages may refer to bytes sent before the capture started; those cannot be inflated ({why}) and are skipped",
                            self.conn_name(emit.conn_flag),
                            self.describe()
                        ));
                    }
                    self.say_gap(
                        h,
                        emit,
                        "compressed message refers to bytes before the capture".into(),
                    );
                    return;
                }
                Err(why) => {
                    let name = self.conn_name(emit.conn_flag);
                    emit.problem(format!(
                        "{name}: a compressed message from the {side} cannot be inflated ({why}); skipped"
                    ));
                    self.frames[h].inflate = None;
                    self.say_gap(h, emit, "compressed message unreadable".into());
                    return;
                }
            }
        } else {
            data
        };
        if op == 0x1 && self.mid_life_unconfirmed {
            if data.trim_ascii_start().starts_with(b"[") {
                self.mid_life_unconfirmed = false;
                let from = if emit.conn_flag.is_some() {
                    "--conn"
                } else {
                    "the charger's address"
                };
                emit.note(format!(
                    "{}: the capture starts inside this connection ({}): no handshake seen, so the identity is {from}, the charger is the side that masks its frames, and no subprotocol is known (pass --ocpp)",
                    self.conn_name(emit.conn_flag),
                    self.describe()
                ));
            } else {
                self.phase = Phase::Ignored;
                emit.note(format!(
                    "{}: a WebSocket already open when the capture started whose messages are not OCPP-J arrays; not read",
                    self.describe()
                ));
                return;
            }
        }
        if self.mid_life_unconfirmed {
            // Binary before any OCPP-J text: not known to be OCPP yet.
            return;
        }
        let name = self.conn_name(emit.conn_flag);
        if op == 0x1 {
            let text = match std::str::from_utf8(data) {
                Ok(t) => t.to_owned(),
                Err(_) => {
                    emit.problem(format!(
                        "{name}: a text message from the {side} is not UTF-8; read with replacement characters"
                    ));
                    String::from_utf8_lossy(data).into_owned()
                }
            };
            emit.rec(&name, input::frame(side, text));
        } else {
            emit.rec(
                &name,
                RecKind::Binary {
                    from: side,
                    len: data.len(),
                },
            );
        }
    }
}

/// Unmasks a frame's payload in place (RFC 6455 5.3), eight bytes at a time.
fn unmask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = data.chunks_exact_mut(8);
    for w in &mut words {
        let v = u64::from_ne_bytes(<[u8; 8]>::try_from(&*w).unwrap_or_default()) ^ wide;
        w.copy_from_slice(&v.to_ne_bytes());
    }
    // The rest starts at a multiple of 8, so the key starts over.
    for (b, k) in words.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *b ^= k;
    }
}

/// A frame header.
#[derive(Debug, Clone, Copy)]
struct Head {
    fin: bool,
    rsv1: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    header_len: usize,
    len: usize,
}

/// The header at the start of `b`; `Ok(None)` when more bytes are needed.
fn frame_head(b: &[u8]) -> Result<Option<Head>, String> {
    if b.len() < 2 {
        return Ok(None);
    }
    let opcode = b[0] & 0x0f;
    if b[0] & 0x30 != 0 {
        return Err("a WebSocket frame with RSV2 or RSV3 set".into());
    }
    if !matches!(opcode, 0x0..=0x2 | 0x8..=0xA) {
        return Err(format!(
            "a WebSocket frame with the reserved opcode {opcode:#x}"
        ));
    }
    let masked = b[1] & 0x80 != 0;
    let (len, mut hl) = match b[1] & 0x7f {
        126 => {
            if b.len() < 4 {
                return Ok(None);
            }
            (usize::from(u16::from_be_bytes([b[2], b[3]])), 4)
        }
        127 => {
            if b.len() < 10 {
                return Ok(None);
            }
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[2..10]);
            (
                usize::try_from(u64::from_be_bytes(x)).unwrap_or(usize::MAX),
                10,
            )
        }
        n => (usize::from(n), 2),
    };
    let mask = if masked {
        if b.len() < hl + 4 {
            return Ok(None);
        }
        let m = [b[hl], b[hl + 1], b[hl + 2], b[hl + 3]];
        hl += 4;
        Some(m)
    } else {
        None
    };
    Ok(Some(Head {
        fin: b[0] & 0x80 != 0,
        rsv1: b[0] & 0x40 != 0,
        opcode,
        mask,
        header_len: hl,
        len,
    }))
}

/// Whether `b` plausibly starts a WebSocket frame of OCPP traffic (used where the stream
/// position is not known: a capture that starts mid-connection, after a loss). `masked`:
/// whether this direction masks (`None` when not known).
fn plausible_frame(b: &[u8], masked: Option<bool>) -> bool {
    let Ok(Some(head)) = frame_head(b) else {
        return false;
    };
    if masked.is_some_and(|m| m != head.mask.is_some()) {
        return false;
    }
    if head.opcode >= 0x8 {
        return head.fin && head.len <= 125;
    }
    if head.opcode == 0 {
        // A continuation frame never starts a message.
        return false;
    }
    if head.opcode == 0x1 && !head.rsv1 {
        // An OCPP-J message is a JSON array.
        let Some(&first) = b.get(head.header_len) else {
            return true;
        };
        let first = head.mask.map_or(first, |m| first ^ m[0]);
        return first == b'[';
    }
    true
}

/// Where an HTTP head ends (after its blank line).
fn head_end(b: &[u8]) -> Option<usize> {
    memchr::memmem::find(b, b"\r\n\r\n").map(|i| i + 4)
}

/// permessage-deflate as accepted: (client_no_context_takeover, server_no_context_takeover).
fn deflate_params(v: &str) -> Option<(bool, bool)> {
    for ext in v.split(',') {
        let mut parts = ext.split(';').map(str::trim);
        if parts.next() != Some("permessage-deflate") {
            continue;
        }
        let (mut c, mut s) = (false, false);
        for p in parts {
            match p.split('=').next().map(str::trim) {
                Some("client_no_context_takeover") => c = true,
                Some("server_no_context_takeover") => s = true,
                _ => {}
            }
        }
        return Some((c, s));
    }
    None
}

/// Why a permessage-deflate message could not be inflated.
#[derive(Debug, thiserror::Error)]
enum InflateError {
    #[error("inflates to over {MAX_MESSAGE} bytes")]
    TooLarge,
    #[error("{0}")]
    Corrupt(#[from] flate2::DecompressError),
    #[error("the compressed data is cut short")]
    CutShort,
}

/// Inflates one permessage-deflate message into `out` (RFC 7692 §7.2.2: the tail
/// 00 00 FF FF is put back, in `scratch`); `fresh`: no context takeover, so a new window for
/// each message (the inflater is reset, not made anew).
fn inflate(
    state: &mut Option<Decompress>,
    scratch: &mut Vec<u8>,
    data: &[u8],
    fresh: bool,
    out: &mut Vec<u8>,
) -> Result<(), InflateError> {
    scratch.clear();
    scratch.extend_from_slice(data);
    scratch.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let input = &scratch[..];
    out.clear();
    out.reserve(data.len() * 4 + 64);
    let d = match state {
        Some(d) => {
            if fresh {
                d.reset(false);
            }
            d
        }
        None => state.insert(Decompress::new(false)),
    };
    let mut done = 0usize;
    loop {
        if out.len() == out.capacity() {
            if out.len() >= MAX_MESSAGE {
                return Err(InflateError::TooLarge);
            }
            out.reserve(out.len().max(1024));
        }
        let (in_before, out_before) = (d.total_in(), out.len());
        let status = d.decompress_vec(&input[done..], out, FlushDecompress::Sync)?;
        let used = usize::try_from(d.total_in() - in_before).unwrap_or(usize::MAX);
        done = done.saturating_add(used).min(input.len());
        if matches!(status, Status::StreamEnd) {
            // A final block: nothing after it belongs to the message.
            return Ok(());
        }
        if done >= input.len() && out.len() < out.capacity() {
            return Ok(());
        }
        if used == 0 && out.len() == out_before && out.len() < out.capacity() {
            return Err(InflateError::CutShort);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_heads_and_plausibility() {
        // A masked text frame "[2" from a charger.
        let m = [1u8, 2, 3, 4];
        let mut f = vec![0x81, 0x82];
        f.extend(m);
        f.extend([b'[' ^ 1, b'2' ^ 2]);
        let h = frame_head(&f).unwrap().unwrap();
        assert_eq!((h.header_len, h.len, h.opcode), (6, 2, 1));
        assert!(plausible_frame(&f, Some(true)));
        assert!(!plausible_frame(&f, Some(false)));
        assert!(!plausible_frame(b"\x81\x02{}", None));
        assert!(plausible_frame(b"\x81\x02[]", None));
        assert!(frame_head(b"\x83\x00").is_err());
        assert!(frame_head(b"\x81\x7e\x01").unwrap().is_none());
    }

    #[test]
    fn deflate_parameters() {
        assert_eq!(
            deflate_params(
                "permessage-deflate; client_no_context_takeover; server_max_window_bits=15"
            ),
            Some((true, false))
        );
        assert_eq!(deflate_params("x-foo"), None);
    }

    #[test]
    fn inflates_with_and_without_context_takeover() {
        use flate2::{Compress, Compression, FlushCompress};
        let mut c = Compress::new(Compression::default(), false);
        let mut msgs = Vec::new();
        for text in ["[2,\"1\",\"Heartbeat\",{}]", "[2,\"2\",\"Heartbeat\",{}]"] {
            let mut out = Vec::with_capacity(256);
            c.compress_vec(text.as_bytes(), &mut out, FlushCompress::Sync)
                .unwrap();
            assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
            out.truncate(out.len() - 4);
            msgs.push((text, out));
        }
        let mut state = None;
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        for (text, data) in &msgs {
            inflate(&mut state, &mut scratch, data, false, &mut out).unwrap();
            assert_eq!(out, text.as_bytes());
        }
        // The second message refers to the first: a fresh window cannot read it, whether
        // the inflater is new or reset.
        for mut st in [None, state] {
            assert!(
                inflate(&mut st, &mut scratch, &msgs[1].1, true, &mut out)
                    .map_or(true, |()| out != msgs[1].0.as_bytes())
            );
        }
    }
}
