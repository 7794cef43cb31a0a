//! Packet headers, by hand and bounds-checked: the link layers a capture of OCPP traffic
//! comes in (Ethernet with VLAN tags, Linux cooked v1 and v2, BSD loopback/null, raw IP),
//! IPv4 and IPv6, and TCP. A packet that is not IP/TCP is `Ok(None)`; a TCP packet cut
//! short is an error naming the layer. It keeps no state and reads nothing but the packet.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Link types (the numbers pcap and pcapng use).
pub const ETHERNET: u32 = 1;
pub const NULL: u32 = 0;
pub const RAW: u32 = 101;
pub const LOOP: u32 = 108;
pub const LINUX_SLL: u32 = 113;
pub const IPV4: u32 = 228;
pub const IPV6: u32 = 229;
pub const LINUX_SLL2: u32 = 276;
/// Some systems write raw IP as 12 or 14.
pub const RAW_OLD: u32 = 12;
pub const RAW_OLD2: u32 = 14;

/// A TCP segment with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment<'a> {
    pub src: (IpAddr, u16),
    pub dst: (IpAddr, u16),
    pub seq: u32,
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    /// The payload bytes captured.
    pub payload: &'a [u8],
    /// The payload length the IP header announces (more than `payload` when the capture
    /// cut the packet: a small snaplen).
    pub wire_len: usize,
}

/// Why a packet could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct HeaderError(pub String);

fn short(what: &str) -> HeaderError {
    HeaderError(format!("{what} header cut short"))
}

/// Whether this link type is one read here.
pub fn supported(linktype: u32) -> bool {
    matches!(
        linktype,
        ETHERNET | NULL | RAW | LOOP | LINUX_SLL | LINUX_SLL2 | IPV4 | IPV6 | RAW_OLD | RAW_OLD2
    )
}

/// The TCP segment in a packet of `linktype`, if it holds one.
pub fn tcp_segment(linktype: u32, data: &[u8]) -> Result<Option<Segment<'_>>, HeaderError> {
    match network(linktype, data)? {
        Some((0x0800, ip)) => ipv4(ip),
        Some((0x86dd, ip)) => ipv6(ip),
        _ => Ok(None),
    }
}

/// The datagram a fragment belongs to (source, destination and identification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FragKey {
    V4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        id: u16,
    },
    V6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        id: u32,
    },
}

/// A fragment of an IPv4 or IPv6 datagram: what reassembly ([`super::ipfrag`]) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub key: FragKey,
    /// Where its payload goes in the datagram's fragmentable part, in bytes.
    pub offset: usize,
    /// More fragments follow (the last one has this clear).
    pub more: bool,
    /// What every fragment repeats: the IPv4 header, or the IPv6 header with the extension
    /// headers before the Fragment header (the first fragment's is the one kept).
    pub header: &'a [u8],
    /// IPv6: where in `header` the byte naming the Fragment header is, and the header that
    /// follows the Fragment header (what that byte names once reassembled). `None` for IPv4.
    pub next: Option<(usize, u8)>,
    pub payload: &'a [u8],
}

impl Fragment<'_> {
    /// "IPv4" or "IPv6".
    pub fn family(&self) -> &'static str {
        match self.key {
            FragKey::V4 { .. } => "IPv4",
            FragKey::V6 { .. } => "IPv6",
        }
    }
}

/// The IP fragment in a packet of `linktype`, if it is one: `Ok(None)` for an unfragmented
/// packet or a fragment of something other than TCP; an error when the headers that say it
/// is a fragment are cut short.
pub fn ip_fragment(linktype: u32, data: &[u8]) -> Result<Option<Fragment<'_>>, HeaderError> {
    match network(linktype, data) {
        Ok(Some((0x0800, d))) => Ok(ipv4_fragment(d)),
        Ok(Some((0x86dd, d))) => ipv6_fragment(d),
        // The packet's own reading says what is wrong with it.
        _ => Ok(None),
    }
}

fn ipv4_fragment(d: &[u8]) -> Option<Fragment<'_>> {
    if d.len() < 20 || d[9] != 6 {
        return None;
    }
    let ihl = usize::from(d[0] & 0x0f) * 4;
    let frag = u16::from_be_bytes([d[6], d[7]]);
    let (offset, more) = (usize::from(frag & 0x1fff) * 8, frag & 0x2000 != 0);
    if ihl < 20 || d.len() < ihl || (offset == 0 && !more) {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([d[2], d[3]]));
    let end = if total < ihl {
        d.len()
    } else {
        total.min(d.len())
    };
    Some(Fragment {
        key: FragKey::V4 {
            src: Ipv4Addr::new(d[12], d[13], d[14], d[15]),
            dst: Ipv4Addr::new(d[16], d[17], d[18], d[19]),
            id: u16::from_be_bytes([d[4], d[5]]),
        },
        offset,
        more,
        header: &d[..ihl],
        next: None,
        payload: &d[ihl..end],
    })
}

/// The Fragment header (RFC 8200 4.5), after any hop-by-hop, routing and destination
/// options headers. An atomic fragment (offset 0, no more) is no fragment: [`ipv6`] reads it.
fn ipv6_fragment(d: &[u8]) -> Result<Option<Fragment<'_>>, HeaderError> {
    if d.len() < 40 {
        return Ok(None);
    }
    let payload_len = usize::from(u16::from_be_bytes([d[4], d[5]]));
    // A jumbogram (length 0) is never fragmented; trust what was captured then.
    let end = if payload_len == 0 {
        d.len()
    } else {
        (40 + payload_len).min(d.len())
    };
    let (mut next, mut next_at, mut off) = (d[6], 6usize, 40usize);
    loop {
        match next {
            0 | 43 | 60 => {
                if end < off + 8 {
                    return Ok(None);
                }
                next = d[off];
                next_at = off;
                off += (usize::from(d[off + 1]) + 1) * 8;
            }
            44 => break,
            _ => return Ok(None),
        }
    }
    if end < off + 8 {
        return Err(short("IPv6 fragment"));
    }
    let h = &d[off..off + 8];
    let word = u16::from_be_bytes([h[2], h[3]]);
    let (offset, more) = (usize::from(word >> 3) * 8, word & 1 != 0);
    // Only what may carry TCP: TCP itself, or options or routing before it.
    if (offset == 0 && !more) || !matches!(h[0], 6 | 43 | 60) {
        return Ok(None);
    }
    Ok(Some(Fragment {
        key: FragKey::V6 {
            src: Ipv6Addr::from(<[u8; 16]>::try_from(&d[8..24]).unwrap_or_default()),
            dst: Ipv6Addr::from(<[u8; 16]>::try_from(&d[24..40]).unwrap_or_default()),
            id: u32::from_be_bytes([h[4], h[5], h[6], h[7]]),
        },
        offset,
        more,
        header: &d[..off],
        next: Some((next_at, h[0])),
        payload: &d[off + 8..end],
    }))
}

/// The network-layer packet in a packet of `linktype`: its ethertype and bytes.
fn network(linktype: u32, data: &[u8]) -> Result<Option<(u16, &[u8])>, HeaderError> {
    Ok(Some(match linktype {
        ETHERNET => {
            if data.len() < 14 {
                return Err(short("Ethernet"));
            }
            let mut et = u16::from_be_bytes([data[12], data[13]]);
            let mut off = 14;
            // 802.1Q / 802.1ad tags.
            while matches!(et, 0x8100 | 0x88a8 | 0x9100) {
                if data.len() < off + 4 {
                    return Err(short("VLAN"));
                }
                et = u16::from_be_bytes([data[off + 2], data[off + 3]]);
                off += 4;
            }
            (et, &data[off..])
        }
        LINUX_SLL => {
            if data.len() < 16 {
                return Err(short("Linux cooked (v1)"));
            }
            (u16::from_be_bytes([data[14], data[15]]), &data[16..])
        }
        LINUX_SLL2 => {
            if data.len() < 20 {
                return Err(short("Linux cooked (v2)"));
            }
            (u16::from_be_bytes([data[0], data[1]]), &data[20..])
        }
        NULL | LOOP => {
            if data.len() < 4 {
                return Err(short("loopback"));
            }
            // The address family, in the writer's byte order (NULL) or network order
            // (LOOP): AF_INET is 2; AF_INET6 is 10, 24, 28 or 30 depending on the OS.
            let le = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
            let be = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
            let af = if le < 256 { le } else { be };
            let et = match af {
                2 => 0x0800,
                10 | 24 | 28 | 30 => 0x86dd,
                _ => return Ok(None),
            };
            (et, &data[4..])
        }
        RAW | RAW_OLD | RAW_OLD2 | IPV4 | IPV6 => match data.first().map(|b| b >> 4) {
            Some(4) => (0x0800, data),
            Some(6) => (0x86dd, data),
            _ => return Ok(None),
        },
        other => {
            return Err(HeaderError(format!("link type {other} is not read here")));
        }
    }))
}

fn ipv4(d: &[u8]) -> Result<Option<Segment<'_>>, HeaderError> {
    if d.len() < 20 {
        return Err(short("IPv4"));
    }
    let ihl = usize::from(d[0] & 0x0f) * 4;
    if ihl < 20 || d.len() < ihl {
        return Err(HeaderError("IPv4 header length is wrong".into()));
    }
    if d[9] != 6 {
        return Ok(None);
    }
    let total = usize::from(u16::from_be_bytes([d[2], d[3]]));
    let frag = u16::from_be_bytes([d[6], d[7]]);
    if frag & 0x1fff != 0 || frag & 0x2000 != 0 {
        // Reassembled by the importer first ([`ip_fragment`]); one that gets here lost
        // a part.
        return Err(HeaderError(
            "a fragment of an IPv4 packet whose other fragments were not captured".into(),
        ));
    }
    let src = IpAddr::V4(Ipv4Addr::new(d[12], d[13], d[14], d[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(d[16], d[17], d[18], d[19]));
    // Offloaded captures may say 0; trust what was captured then.
    let total = if total == 0 { d.len() } else { total };
    let wire = total.saturating_sub(ihl);
    let end = total.min(d.len());
    tcp(&d[ihl.min(end)..end], wire, src, dst)
}

fn ipv6(d: &[u8]) -> Result<Option<Segment<'_>>, HeaderError> {
    if d.len() < 40 {
        return Err(short("IPv6"));
    }
    let payload_len = usize::from(u16::from_be_bytes([d[4], d[5]]));
    let mut next = d[6];
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&d[8..24]);
    dst.copy_from_slice(&d[24..40]);
    let end = (40 + payload_len).min(d.len());
    let mut off = 40;
    let mut wire = payload_len;
    // Extension headers: hop-by-hop, routing, destination options, an atomic fragment.
    loop {
        match next {
            6 => break,
            0 | 43 | 60 => {
                if end < off + 8 {
                    return Err(short("IPv6 extension"));
                }
                let len = (usize::from(d[off + 1]) + 1) * 8;
                next = d[off];
                off += len;
                wire = wire.saturating_sub(len);
                if off > end {
                    return Err(short("IPv6 extension"));
                }
            }
            44 => {
                if end < off + 8 {
                    return Err(short("IPv6 fragment"));
                }
                let word = u16::from_be_bytes([d[off + 2], d[off + 3]]);
                if word & 0xfff9 != 0 {
                    // Reassembled by the importer first ([`ip_fragment`]); one that gets
                    // here lost a part.
                    return Err(HeaderError(
                        "a fragment of an IPv6 packet whose other fragments were not captured"
                            .into(),
                    ));
                }
                // An atomic fragment (offset 0, no more): the packet is whole.
                next = d[off];
                off += 8;
                wire = wire.saturating_sub(8);
            }
            _ => return Ok(None),
        }
    }
    tcp(
        &d[off..end],
        wire,
        IpAddr::V6(Ipv6Addr::from(src)),
        IpAddr::V6(Ipv6Addr::from(dst)),
    )
}

fn tcp(
    d: &[u8],
    wire: usize,
    src: IpAddr,
    dst: IpAddr,
) -> Result<Option<Segment<'_>>, HeaderError> {
    if d.len() < 20 {
        return Err(short("TCP"));
    }
    let doff = usize::from(d[12] >> 4) * 4;
    if doff < 20 || d.len() < doff {
        return Err(short("TCP"));
    }
    let flags = d[13];
    Ok(Some(Segment {
        src: (src, u16::from_be_bytes([d[0], d[1]])),
        dst: (dst, u16::from_be_bytes([d[2], d[3]])),
        seq: u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
        ack: (flags & 0x10 != 0).then(|| u32::from_be_bytes([d[8], d[9], d[10], d[11]])),
        syn: flags & 0x02 != 0,
        fin: flags & 0x01 != 0,
        rst: flags & 0x04 != 0,
        payload: &d[doff..],
        wire_len: wire.saturating_sub(doff).max(d.len() - doff),
    }))
}
