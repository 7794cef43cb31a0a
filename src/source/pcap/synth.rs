//! Builds captures from trace records: each connection as a TCP connection with its HTTP
//! upgrade and WebSocket frames (masked from the charger, optionally compressed or
//! fragmented), timed by the records, written as pcap or pcapng on a chosen link type.
//! Made for tests and benchmarks of the capture reader (a capture of known content, and
//! the faults real captures have: loss, reordering, retransmission, IPv6, a capture that
//! starts mid-connection). It reads no clock and touches no file.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use flate2::{Compress, Compression, FlushCompress};

use super::link;
use crate::ocpp::Side;
use crate::source::input::{Rec, RecKind};
use crate::time::Timestamp;

/// How to build the capture.
#[derive(Debug, Clone)]
pub struct Options {
    pub pcapng: bool,
    pub linktype: u32,
    pub ipv6: bool,
    /// permessage-deflate: `Some(no_context_takeover)`.
    pub deflate: Option<bool>,
    /// Split each message into this many fragments (1: none).
    pub fragments: usize,
    /// Largest TCP payload per segment.
    pub mss: usize,
    /// The CSMS's port.
    pub port: u16,
    /// Leave out each connection's handshake (a capture started mid-connection).
    pub skip_handshake: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            pcapng: false,
            linktype: link::ETHERNET,
            ipv6: false,
            deflate: None,
            fragments: 1,
            mss: 1400,
            port: 9000,
            skip_handshake: false,
        }
    }
}

/// One packet before it is written.
#[derive(Debug, Clone)]
pub struct Packet {
    pub at: Timestamp,
    pub src: (IpAddr, u16),
    pub dst: (IpAddr, u16),
    pub seq: u32,
    pub ack: u32,
    /// TCP flags byte.
    pub flags: u8,
    pub payload: Vec<u8>,
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

struct TcpConn {
    charger: (IpAddr, u16),
    csms: (IpAddr, u16),
    /// Next sequence numbers: charger's, CSMS's.
    seq: [u32; 2],
    compress: [Compress; 2],
    mask_counter: u32,
    closed: bool,
}

/// The packets of `records` (gap records are left out: they say nothing is there).
pub fn packets(records: &[Rec], opts: &Options) -> Vec<Packet> {
    let mut conns: HashMap<String, TcpConn> = HashMap::new();
    let mut out = Vec::new();
    let mut next_port = 40000u16;
    for rec in records {
        // An open starts a new TCP connection even while an older one of the identity is
        // still open (a station that reconnected before its old socket closed).
        let fresh = matches!(rec.kind, RecKind::Open { .. })
            || conns.get(&rec.conn).is_none_or(|c| c.closed);
        if fresh {
            if matches!(rec.kind, RecKind::Gap { .. } | RecKind::Close { .. }) {
                continue;
            }
            let n = u32::from(next_port);
            let (cip, sip) = if opts.ipv6 {
                (
                    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
                    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
                )
            } else {
                (
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                )
            };
            let mut c = TcpConn {
                charger: (cip, next_port),
                csms: (sip, opts.port),
                seq: [n.wrapping_mul(7919), n.wrapping_mul(104_729)],
                compress: [
                    Compress::new(Compression::default(), false),
                    Compress::new(Compression::default(), false),
                ],
                mask_counter: n,
                closed: false,
            };
            next_port = next_port.wrapping_add(1).max(1024);
            if !opts.skip_handshake {
                c.push(&mut out, rec.at, Side::Charger, SYN, Vec::new());
                c.seq[0] = c.seq[0].wrapping_add(1);
                c.push(&mut out, rec.at, Side::Csms, SYN | ACK, Vec::new());
                c.seq[1] = c.seq[1].wrapping_add(1);
                c.push(&mut out, rec.at, Side::Charger, ACK, Vec::new());
                let (sub, offered, user) = match &rec.kind {
                    RecKind::Open(h) => (
                        h.subprotocol.clone(),
                        h.offered_subprotocols.clone(),
                        h.basic_auth_user.clone(),
                    ),
                    _ => (Some("ocpp1.6".into()), Some("ocpp1.6".into()), None),
                };
                let mut req = format!(
                    "GET /ocpp/{} HTTP/1.1\r\nHost: csms\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
                    rec.conn
                );
                if let Some(o) = &offered {
                    req.push_str(&format!("Sec-WebSocket-Protocol: {o}\r\n"));
                }
                if let Some(u) = &user {
                    use base64::Engine as _;
                    let cred = base64::engine::general_purpose::STANDARD
                        .encode(format!("{u}:not-the-real-password"));
                    req.push_str(&format!("Authorization: Basic {cred}\r\n"));
                }
                if opts.deflate.is_some() {
                    req.push_str(
                        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n",
                    );
                }
                req.push_str("\r\n");
                c.send(&mut out, rec.at, Side::Charger, req.into_bytes(), opts.mss);
                let mut resp = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n".to_owned();
                if let Some(s) = &sub {
                    resp.push_str(&format!("Sec-WebSocket-Protocol: {s}\r\n"));
                }
                match opts.deflate {
                    Some(true) => resp.push_str("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"),
                    Some(false) => resp.push_str("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                    None => {}
                }
                resp.push_str("\r\n");
                c.send(&mut out, rec.at, Side::Csms, resp.into_bytes(), opts.mss);
            }
            conns.insert(rec.conn.clone(), c);
        }
        let Some(c) = conns.get_mut(&rec.conn) else {
            continue;
        };
        match &rec.kind {
            RecKind::Open { .. } | RecKind::Gap { .. } => {}
            RecKind::Frame { from, text, .. } => {
                let bytes = c.message(*from, 0x1, text.as_bytes(), opts);
                c.send(&mut out, rec.at, *from, bytes, opts.mss);
            }
            RecKind::Binary { from, len } => {
                let bytes = c.message(*from, 0x2, &vec![0u8; *len], opts);
                c.send(&mut out, rec.at, *from, bytes, opts.mss);
            }
            RecKind::Close { code, by } => {
                let by = by.unwrap_or(Side::Csms);
                if let Some(code) = code {
                    let f = c.frame(by, 0x8, true, false, &code.to_be_bytes());
                    c.send(&mut out, rec.at, by, f, opts.mss);
                    let f = c.frame(by.other(), 0x8, true, false, &code.to_be_bytes());
                    c.send(&mut out, rec.at, by.other(), f, opts.mss);
                }
                c.push(&mut out, rec.at, by, FIN | ACK, Vec::new());
                c.seq[idx(by)] = c.seq[idx(by)].wrapping_add(1);
                c.push(&mut out, rec.at, by.other(), FIN | ACK, Vec::new());
                c.seq[idx(by.other())] = c.seq[idx(by.other())].wrapping_add(1);
                c.push(&mut out, rec.at, by, ACK, Vec::new());
                c.closed = true;
            }
        }
    }
    out
}

fn idx(s: Side) -> usize {
    match s {
        Side::Charger => 0,
        Side::Csms => 1,
    }
}

impl TcpConn {
    fn push(&self, out: &mut Vec<Packet>, at: Timestamp, from: Side, flags: u8, payload: Vec<u8>) {
        let (src, dst) = match from {
            Side::Charger => (self.charger, self.csms),
            Side::Csms => (self.csms, self.charger),
        };
        out.push(Packet {
            at,
            src,
            dst,
            seq: self.seq[idx(from)],
            ack: self.seq[1 - idx(from)],
            flags,
            payload,
        });
    }

    fn send(
        &mut self,
        out: &mut Vec<Packet>,
        at: Timestamp,
        from: Side,
        bytes: Vec<u8>,
        mss: usize,
    ) {
        for part in bytes.chunks(mss.max(1)) {
            self.push(out, at, from, ACK | PSH, part.to_vec());
            let len = u32::try_from(part.len()).unwrap_or(0);
            self.seq[idx(from)] = self.seq[idx(from)].wrapping_add(len);
        }
    }

    /// A whole message as frames.
    fn message(&mut self, from: Side, opcode: u8, data: &[u8], opts: &Options) -> Vec<u8> {
        let (payload, rsv1) = match opts.deflate {
            Some(fresh) => {
                let c = &mut self.compress[idx(from)];
                if fresh {
                    c.reset();
                }
                let mut out = Vec::with_capacity(data.len() + 64);
                let mut done = 0usize;
                loop {
                    out.reserve(data.len() / 2 + 64);
                    let before = c.total_in();
                    let _ = c.compress_vec(&data[done..], &mut out, FlushCompress::Sync);
                    done += usize::try_from(c.total_in() - before).unwrap_or(0);
                    if done >= data.len() && out.ends_with(&[0, 0, 0xff, 0xff]) {
                        break;
                    }
                }
                out.truncate(out.len() - 4);
                (out, true)
            }
            None => (data.to_vec(), false),
        };
        let n = opts.fragments.max(1);
        let size = payload.len().div_ceil(n).max(1);
        let parts: Vec<&[u8]> = if payload.is_empty() {
            vec![&payload[..]]
        } else {
            payload.chunks(size).collect()
        };
        let mut out = Vec::new();
        let last = parts.len() - 1;
        for (i, part) in parts.iter().enumerate() {
            let op = if i == 0 { opcode } else { 0 };
            out.extend(self.frame(from, op, i == last, rsv1 && i == 0, part));
        }
        out
    }

    fn frame(&mut self, from: Side, opcode: u8, fin: bool, rsv1: bool, payload: &[u8]) -> Vec<u8> {
        let mut f = Vec::with_capacity(payload.len() + 14);
        f.push(u8::from(fin) << 7 | u8::from(rsv1) << 6 | opcode);
        let mask = from == Side::Charger;
        let m = if mask { 0x80 } else { 0 };
        match payload.len() {
            n @ 0..=125 => f.push(m | u8::try_from(n).unwrap_or(0)),
            n @ 126..=65535 => {
                f.push(m | 126);
                f.extend(u16::try_from(n).unwrap_or(0).to_be_bytes());
            }
            n => {
                f.push(m | 127);
                f.extend((n as u64).to_be_bytes());
            }
        }
        if mask {
            self.mask_counter = self
                .mask_counter
                .wrapping_mul(1_103_515_245)
                .wrapping_add(12345);
            let key = self.mask_counter.to_be_bytes();
            f.extend(key);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            f.extend_from_slice(payload);
        }
        f
    }
}

/// One packet's bytes on `linktype`, from the link header on.
pub fn encode_packet(p: &Packet, linktype: u32) -> Vec<u8> {
    let mut tcp = Vec::with_capacity(20 + p.payload.len());
    tcp.extend(p.src.1.to_be_bytes());
    tcp.extend(p.dst.1.to_be_bytes());
    tcp.extend(p.seq.to_be_bytes());
    tcp.extend(p.ack.to_be_bytes());
    tcp.push(5 << 4);
    tcp.push(p.flags);
    tcp.extend(65535u16.to_be_bytes());
    tcp.extend([0, 0, 0, 0]); // checksum (not checked by readers of captures), urgent
    tcp.extend_from_slice(&p.payload);
    let (ip, ethertype) = match (p.src.0, p.dst.0) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut ip = Vec::with_capacity(20 + tcp.len());
            ip.extend([0x45, 0]);
            ip.extend(
                u16::try_from(20 + tcp.len())
                    .unwrap_or(u16::MAX)
                    .to_be_bytes(),
            );
            ip.extend([0, 0, 0x40, 0, 64, 6, 0, 0]);
            ip.extend(s.octets());
            ip.extend(d.octets());
            ip.extend(tcp);
            (ip, 0x0800u16)
        }
        (s, d) => {
            let to6 = |a: IpAddr| match a {
                IpAddr::V6(a) => a,
                IpAddr::V4(a) => a.to_ipv6_mapped(),
            };
            let mut ip = Vec::with_capacity(40 + tcp.len());
            ip.extend([0x60, 0, 0, 0]);
            ip.extend(u16::try_from(tcp.len()).unwrap_or(u16::MAX).to_be_bytes());
            ip.extend([6, 64]);
            ip.extend(to6(s).octets());
            ip.extend(to6(d).octets());
            ip.extend(tcp);
            (ip, 0x86ddu16)
        }
    };
    let mut out = Vec::with_capacity(ip.len() + 20);
    match linktype {
        link::ETHERNET => {
            out.extend([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
            out.extend(ethertype.to_be_bytes());
        }
        link::LINUX_SLL => {
            out.extend([0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0]);
            out.extend(ethertype.to_be_bytes());
        }
        link::LINUX_SLL2 => {
            out.extend(ethertype.to_be_bytes());
            out.extend([0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 2, 0, 0, 0, 0, 2, 0, 0]);
        }
        link::NULL => {
            let af: u32 = if ethertype == 0x0800 { 2 } else { 30 };
            out.extend(af.to_le_bytes());
        }
        _ => {}
    }
    out.extend(ip);
    out
}

/// Writes packets as a capture file (`snaplen` cuts each packet's captured bytes).
pub fn write_capture(packets: &[Packet], opts: &Options, snaplen: usize) -> Vec<u8> {
    let mut out = Vec::new();
    if opts.pcapng {
        // Section header, then one interface with microsecond time.
        let shb_body: Vec<u8> = [
            &0x1A2B_3C4Du32.to_le_bytes()[..],
            &1u16.to_le_bytes(),
            &0u16.to_le_bytes(),
            &(-1i64).to_le_bytes(),
        ]
        .concat();
        block(&mut out, 0x0A0D_0D0A, &shb_body);
        let mut idb = Vec::new();
        idb.extend(u16::try_from(opts.linktype).unwrap_or(0).to_le_bytes());
        idb.extend(0u16.to_le_bytes());
        idb.extend(u32::try_from(snaplen).unwrap_or(u32::MAX).to_le_bytes());
        block(&mut out, 1, &idb);
    } else {
        out.extend(0xa1b2_c3d4u32.to_le_bytes());
        out.extend(2u16.to_le_bytes());
        out.extend(4u16.to_le_bytes());
        out.extend(0i32.to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend(u32::try_from(snaplen).unwrap_or(u32::MAX).to_le_bytes());
        out.extend(opts.linktype.to_le_bytes());
    }
    for p in packets {
        let data = encode_packet(p, opts.linktype);
        let cap = &data[..data.len().min(snaplen)];
        let us = u64::try_from(p.at.micros()).unwrap_or(0);
        let caplen = u32::try_from(cap.len()).unwrap_or(u32::MAX);
        let origlen = u32::try_from(data.len()).unwrap_or(u32::MAX);
        if opts.pcapng {
            let mut epb = Vec::with_capacity(cap.len() + 24);
            epb.extend(0u32.to_le_bytes());
            epb.extend(u32::try_from(us >> 32).unwrap_or(0).to_le_bytes());
            epb.extend(u32::try_from(us & 0xffff_ffff).unwrap_or(0).to_le_bytes());
            epb.extend(caplen.to_le_bytes());
            epb.extend(origlen.to_le_bytes());
            epb.extend_from_slice(cap);
            while epb.len() % 4 != 0 {
                epb.push(0);
            }
            block(&mut out, 6, &epb);
        } else {
            out.extend(u32::try_from(us / 1_000_000).unwrap_or(0).to_le_bytes());
            out.extend(u32::try_from(us % 1_000_000).unwrap_or(0).to_le_bytes());
            out.extend(caplen.to_le_bytes());
            out.extend(origlen.to_le_bytes());
            out.extend_from_slice(cap);
        }
    }
    out
}

fn block(out: &mut Vec<u8>, kind: u32, body: &[u8]) {
    let len = u32::try_from(12 + body.len()).unwrap_or(u32::MAX);
    out.extend(kind.to_le_bytes());
    out.extend(len.to_le_bytes());
    out.extend_from_slice(body);
    out.extend(len.to_le_bytes());
}

/// A capture of `records` (no faults, no cut).
pub fn capture(records: &[Rec], opts: &Options) -> Vec<u8> {
    write_capture(&packets(records, opts), opts, usize::MAX >> 1)
}
