//! pcap and pcapng captures of OCPP over plain WebSocket (`ws://`), on any TCP port.
//!
//! Blocks come from `pcap-parser`; [`link`] reads the link layer, IP and TCP headers;
//! [`ipfrag`] puts IPv4 and IPv6 fragments back together; [`tcp`] reassembles each direction; [`ws`] reads the HTTP upgrade and the WebSocket
//! frames. Out come trace records timed by the capture, each positioned at the packet
//! (Wireshark's number, from 1) that completed it; lost bytes become gap records.
//! Encrypted `wss://` traffic cannot be read here (there are no keys): see the README.
//! A corrupt or cut block ends the reading with a problem naming the packet and byte
//! offset; what came before is kept. It judges nothing.
//!
//! A jump of the capture's clock is a gap on every open WebSocket: a packet stamped more
//! than [`BACKWARD_JUMP_SECS`] before the one before it (a clock stepped back, files joined
//! out of order), or more than [`FORWARD_JUMP_SECS`] after it (nothing at all on the wire
//! for a day, not even a heartbeat or a keepalive: a paused capture or a clock stepped
//! forward). Frames there may be missing, so what follows is judged like a trace that starts
//! mid-life.

pub mod ipfrag;
pub mod link;
pub mod synth;
pub mod tcp;
pub mod ws;

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::net::IpAddr;

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{PcapBlockOwned, PcapError, create_reader};

use crate::source::input::{Importer, InputOptions, Problem, Produced};
use crate::time::Timestamp;
use ws::{Conn, Emit};

/// Notes for fragments that contradict their datagram, at most (then a count at the end).
const MAX_FRAGMENT_NOTES: u64 = 20;

/// The largest block read (the reader's buffer grows to this).
const MAX_BLOCK: usize = 64 << 20;

type Endpoint = (IpAddr, u16);

/// A packet stamped this much before the previous one is a time jump (a gap).
pub const BACKWARD_JUMP_SECS: i64 = 1;
/// A packet stamped this much after the previous one is a time jump (a gap): longer than any
/// heartbeat interval in use, so a live connection is never this silent.
pub const FORWARD_JUMP_SECS: i64 = 24 * 3600;

/// One pcapng interface: its link type and time base.
struct Interface {
    linktype: u32,
    /// Timestamp units per second.
    resolution: u64,
    offset_secs: i64,
}

/// Reads a capture into trace records.
pub struct PcapImporter<R> {
    input: Option<R>,
    reader: Option<Box<dyn PcapReaderIterator + Send>>,
    state: State,
    done: bool,
}

struct State {
    conn_flag: Option<String>,
    /// Packets seen so far (the number of the current one).
    packet: u64,
    /// Bytes of the file consumed before the current block.
    offset: u64,
    legacy_linktype: u32,
    legacy_nanos: bool,
    legacy_zone: i64,
    interfaces: Vec<Interface>,
    conns: HashMap<(Endpoint, Endpoint), Conn>,
    /// Link types not read here, said once each.
    unsupported_said: Vec<u32>,
    /// Packets whose headers could not be read (said individually up to a bound).
    bad_packets: u64,
    last_at: Timestamp,
    /// Connections that carried no WebSocket (plain HTTP, TLS, other protocols).
    not_websocket: u64,
    /// IPv4 and IPv6 datagrams that came in fragments.
    fragments: ipfrag::Reassembly,
    /// Fragments dropped as contradicting their datagram (a note each up to a bound).
    bogus_fragments: u64,
}

impl<R: Read + Send + 'static> PcapImporter<R> {
    pub fn new(input: R, opts: &InputOptions) -> Self {
        PcapImporter {
            input: Some(input),
            reader: None,
            state: State {
                conn_flag: opts.conn.clone(),
                packet: 0,
                offset: 0,
                legacy_linktype: link::ETHERNET,
                legacy_nanos: false,
                legacy_zone: 0,
                interfaces: Vec::new(),
                conns: HashMap::new(),
                unsupported_said: Vec::new(),
                bad_packets: 0,
                last_at: Timestamp::default(),
                not_websocket: 0,
                fragments: ipfrag::Reassembly::default(),
                bogus_fragments: 0,
            },
            done: false,
        }
    }
}

impl<R: Read + Send + 'static> Importer for PcapImporter<R> {
    fn pump(&mut self, out: &mut VecDeque<Produced>) -> bool {
        if self.done {
            return false;
        }
        if self.reader.is_none() {
            let Some(input) = self.input.take() else {
                return false;
            };
            match create_reader(1 << 20, input) {
                Ok(r) => self.reader = Some(r),
                Err(e) => {
                    out.push_back(Produced::Problem(Problem {
                        pos: 0,
                        message: format!("not a readable pcap or pcapng capture: {e:?}"),
                    }));
                    self.done = true;
                    return false;
                }
            }
        }
        let Some(reader) = self.reader.as_mut() else {
            return false;
        };
        let st = &mut self.state;
        let mut capacity = 1usize << 20;
        // Read blocks until something came out (or the end).
        loop {
            if !out.is_empty() {
                return true;
            }
            match reader.next() {
                Ok((len, block)) => {
                    st.block(block, out);
                    reader.consume(len);
                    st.offset += len as u64;
                }
                Err(PcapError::Eof) => break,
                Err(PcapError::Incomplete(_)) => {
                    if let Err(e) = reader.refill() {
                        st.problem(out, format!("read error: {e:?}"));
                        break;
                    }
                }
                Err(PcapError::BufferTooSmall) => {
                    capacity *= 2;
                    if capacity > MAX_BLOCK || !reader.grow(capacity) {
                        st.problem(
                            out,
                            format!("a block over {MAX_BLOCK} bytes; reading stops"),
                        );
                        break;
                    }
                    if let Err(e) = reader.refill() {
                        st.problem(out, format!("read error: {e:?}"));
                        break;
                    }
                }
                Err(PcapError::UnexpectedEof) => {
                    st.problem(
                        out,
                        "the capture is cut short inside a block (a truncated file); what came before is read"
                            .into(),
                    );
                    break;
                }
                Err(e) => {
                    let e = match e {
                        PcapError::NomError(_, kind) => format!("{kind:?}"),
                        other => format!("{other:?}"),
                    };
                    st.problem(
                        out,
                        format!(
                            "a corrupt block ({e}); reading stops here, what came before is read"
                        ),
                    );
                    break;
                }
            }
        }
        st.finish(out);
        self.done = true;
        !out.is_empty()
    }
}

impl State {
    fn problem(&self, out: &mut VecDeque<Produced>, message: String) {
        out.push_back(Produced::Problem(Problem {
            pos: self.packet + 1,
            message: format!(
                "packet {} (byte offset {}): {message}",
                self.packet + 1,
                self.offset
            ),
        }));
    }

    fn block(&mut self, block: PcapBlockOwned<'_>, out: &mut VecDeque<Produced>) {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.legacy_linktype = u32::try_from(h.network.0).unwrap_or(u32::MAX);
                self.legacy_nanos = h.is_nanosecond_precision();
                self.legacy_zone = i64::from(h.thiszone);
            }
            PcapBlockOwned::Legacy(b) => {
                self.packet += 1;
                let frac = i64::from(b.ts_usec);
                let micros = if self.legacy_nanos { frac / 1000 } else { frac };
                let at = Timestamp::from_micros(
                    (i64::from(b.ts_sec) + self.legacy_zone) * 1_000_000 + micros,
                );
                let lt = self.legacy_linktype;
                let wire = usize::try_from(b.origlen).unwrap_or(usize::MAX);
                self.packet_data(lt, at, b.data, wire, out);
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => self.interfaces.clear(),
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                self.interfaces.push(Interface {
                    linktype: u32::try_from(idb.linktype.0).unwrap_or(u32::MAX),
                    resolution: idb.ts_resolution().unwrap_or(1_000_000),
                    offset_secs: idb.ts_offset(),
                });
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                self.packet += 1;
                let Some(iface) = self.interfaces.get(epb.if_id as usize) else {
                    self.problem_here(
                        out,
                        format!("names interface {} that no block described", epb.if_id),
                    );
                    return;
                };
                let ts = (u128::from(epb.ts_high) << 32) | u128::from(epb.ts_low);
                let res = u128::from(iface.resolution.max(1));
                let micros = i64::try_from(ts * 1_000_000 / res).unwrap_or(i64::MAX);
                let at = Timestamp::from_micros(
                    micros.saturating_add(iface.offset_secs.saturating_mul(1_000_000)),
                );
                let lt = iface.linktype;
                let caplen = (epb.caplen as usize).min(epb.data.len());
                let wire = usize::try_from(epb.origlen).unwrap_or(usize::MAX);
                self.packet_data(lt, at, &epb.data[..caplen], wire, out);
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                self.packet += 1;
                let Some(iface) = self.interfaces.first() else {
                    self.problem_here(out, "a simple packet block before any interface".into());
                    return;
                };
                let lt = iface.linktype;
                let wire = usize::try_from(spb.origlen).unwrap_or(usize::MAX);
                // A simple packet has no time: the last one seen stands in.
                let at = self.last_at;
                self.packet_data(lt, at, spb.data, wire, out);
            }
            PcapBlockOwned::NG(_) => {}
        }
    }

    fn problem_here(&mut self, out: &mut VecDeque<Produced>, message: String) {
        self.bad_packets += 1;
        if self.bad_packets <= 100 {
            out.push_back(Produced::Problem(Problem {
                pos: self.packet,
                message: format!(
                    "packet {} (byte offset {}): {message}",
                    self.packet, self.offset
                ),
            }));
        }
    }

    fn packet_data(
        &mut self,
        linktype: u32,
        at: Timestamp,
        data: &[u8],
        wire: usize,
        out: &mut VecDeque<Produced>,
    ) {
        let step = at.micros().saturating_sub(self.last_at.micros());
        if self.packet > 1
            && !(-BACKWARD_JUMP_SECS * 1_000_000..=FORWARD_JUMP_SECS * 1_000_000).contains(&step)
        {
            let reason = format!(
                "the capture's clock jumps {} {:.0} s at packet {}",
                if step < 0 { "back" } else { "ahead" },
                step.unsigned_abs() as f64 / 1e6,
                self.packet
            );
            let mut keys: Vec<_> = self.conns.keys().copied().collect();
            keys.sort();
            let mut emit = Emit {
                out,
                pos: self.packet,
                at,
                conn_flag: self.conn_flag.as_deref(),
            };
            for k in keys {
                if let Some(c) = self.conns.get_mut(&k) {
                    c.time_jump(&mut emit, &reason);
                }
            }
        }
        self.last_at = at;
        if !link::supported(linktype) {
            if !self.unsupported_said.contains(&linktype) {
                self.unsupported_said.push(linktype);
                out.push_back(Produced::Note(format!(
                    "packets of link type {linktype} are not read (Ethernet, Linux cooked v1/v2, loopback and raw IP are)"
                )));
            }
            return;
        }
        match link::ip_fragment(linktype, data) {
            Ok(Some(f)) => {
                // Read once whole (as raw IP); until then nothing of it is.
                match self.fragments.add(&f) {
                    ipfrag::Added::Waiting => {}
                    ipfrag::Added::Whole(datagram) => {
                        let len = datagram.len();
                        self.packet_data(link::RAW, at, &datagram, len, out);
                    }
                    ipfrag::Added::Bogus(why) => {
                        self.bogus_fragments += 1;
                        if self.bogus_fragments <= MAX_FRAGMENT_NOTES {
                            out.push_back(Produced::Note(format!(
                                "packet {}: {} fragment dropped with its datagram ({why}); its bytes are a gap",
                                self.packet,
                                f.family()
                            )));
                        }
                    }
                }
                return;
            }
            Ok(None) => {}
            Err(e) => {
                self.problem_here(out, e.to_string());
                return;
            }
        }
        let seg = match link::tcp_segment(linktype, data) {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(e) => {
                // A packet cut by the snaplen inside its headers is only a problem when
                // the capture did not mean to cut it.
                let cut = wire > data.len();
                self.problem_here(
                    out,
                    if cut {
                        format!("{e} (captured {} of {wire} bytes)", data.len())
                    } else {
                        e.to_string()
                    },
                );
                return;
            }
        };
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let half = usize::from(seg.src != key.0);
        // A new SYN on a finished connection's ports starts a new connection.
        if seg.syn
            && seg.ack.is_none()
            && let Some(old) = self.conns.get(&key)
            && (old.halves[0].finished || old.halves[1].finished || old.halves[half].saw_syn)
            && let Some(mut old) = self.conns.remove(&key)
        {
            for h in &mut old.halves {
                h.end();
            }
            drain_conn(&mut old, self.packet, self.conn_flag.as_deref(), at, out);
            if old.quietly_ignored {
                self.not_websocket += 1;
            }
        }
        let conn = self
            .conns
            .entry(key)
            .or_insert_with(|| Conn::new([key.0, key.1]));
        let payload_len = seg.wire_len;
        conn.halves[half].segment(seg.seq, seg.syn, seg.fin, seg.payload, payload_len);
        if let Some(ack) = seg.ack {
            conn.halves[1 - half].acked(ack);
        }
        if seg.rst {
            conn.halves[half].finished = true;
        }
        drain_conn(conn, self.packet, self.conn_flag.as_deref(), at, out);
        if conn.halves[0].finished && conn.halves[1].finished {
            if conn.quietly_ignored {
                self.not_websocket += 1;
            }
            self.conns.remove(&key);
        }
    }

    /// The capture ended: held segments are delivered after their holes.
    fn finish(&mut self, out: &mut VecDeque<Produced>) {
        let mut conns: Vec<_> = self.conns.drain().collect();
        conns.sort_by_key(|a| a.0);
        for (_, mut conn) in conns {
            for h in &mut conn.halves {
                h.end();
            }
            drain_conn(
                &mut conn,
                self.packet,
                self.conn_flag.as_deref(),
                self.last_at,
                out,
            );
            if conn.quietly_ignored {
                self.not_websocket += 1;
            }
        }
        for (fam, name) in ["IPv4", "IPv6"].into_iter().enumerate() {
            let c = self.fragments.counts[fam];
            let lost = c.evicted + self.fragments.incomplete(fam) as u64;
            if lost > 0 {
                out.push_back(Produced::Note(format!(
                    "{lost} fragmented {name} packet(s) could not be put back together (fragments missing from the capture); their bytes are a gap ({} reassembled)",
                    c.reassembled
                )));
            }
            if c.bogus > 0 {
                out.push_back(Produced::Note(format!(
                    "{} fragmented {name} packet(s) had fragments that contradict each other and were dropped; their bytes are a gap ({} reassembled)",
                    c.bogus, c.reassembled
                )));
            }
        }
        if self.not_websocket > 0 {
            out.push_back(Produced::Note(format!(
                "{} TCP connection(s) carried no plain WebSocket (HTTP, TLS such as wss://, other protocols) and were not read",
                self.not_websocket
            )));
        }
        if self.bad_packets > 100 {
            out.push_back(Produced::Problem(Problem {
                pos: 0,
                message: format!(
                    "{} packets could not be read in all (the first 100 are listed)",
                    self.bad_packets
                ),
            }));
        }
    }
}

/// Delivers what `conn` holds ready, as read at packet `packet` and time `at`.
fn drain_conn(
    conn: &mut Conn,
    packet: u64,
    conn_flag: Option<&str>,
    at: Timestamp,
    out: &mut VecDeque<Produced>,
) {
    let mut emit = Emit {
        out,
        pos: packet,
        at,
        conn_flag,
    };
    conn.drain(&mut emit);
}
