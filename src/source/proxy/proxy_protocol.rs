//! The PROXY protocol (HAProxy's, versions 1 and 2) on the listener (`--proxy-protocol`):
//! a load balancer in front of the proxy puts the charger's real address before the
//! connection's own bytes, and that address is what recordings, findings and notices name.
//!
//! A hand-written parser of complete byte slices ([`parse`]) and an exact reader
//! ([`read_header`]) that never reads past the header (what follows belongs to TLS or the
//! WebSocket handshake) and is bounded in bytes ([`MAX_V2_LEN`]) and, by its caller, in
//! time. It trusts the header only because the operator said the listener sits behind a
//! balancer that sends one; it judges no traffic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The 12 bytes every version 2 header starts with.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 1 line, its CRLF included (the specification's bound).
pub const MAX_V1_LEN: usize = 107;
/// The longest version 2 address block accepted (addresses and TLVs after the 16 fixed
/// bytes); a longer one is refused rather than read.
pub const MAX_V2_LEN: usize = 1024;

/// What a header said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// A proxied connection from `source` (the client) to `destination`.
    Proxied {
        source: SocketAddr,
        destination: SocketAddr,
    },
    /// The balancer's own connection (v2 LOCAL, a health check) or a protocol it does not
    /// name (v1 UNKNOWN, v2 UNSPEC or a Unix socket): use the TCP peer's address.
    Local,
}

impl Header {
    /// The client's address, when the header names one.
    pub fn source(&self) -> Option<SocketAddr> {
        match self {
            Header::Proxied { source, .. } => Some(*source),
            Header::Local => None,
        }
    }
}

/// Where parsing a buffer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// At least this many more bytes are needed.
    Need(usize),
    /// A whole header of `len` bytes.
    Done { header: Header, len: usize },
}

/// Why a header is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PpError {
    #[error("no PROXY protocol header (the connection starts with other bytes)")]
    Missing,
    #[error("PROXY v1 line longer than {MAX_V1_LEN} bytes")]
    V1TooLong,
    #[error("malformed PROXY v1 line: {0}")]
    V1(&'static str),
    #[error("PROXY v2 version {0} (only 2 exists)")]
    V2Version(u8),
    #[error("PROXY v2 command {0} (LOCAL 0 and PROXY 1 exist)")]
    V2Command(u8),
    #[error("PROXY v2 address block of {0} bytes (at most {MAX_V2_LEN} accepted)")]
    V2TooLong(usize),
    #[error("PROXY v2 address block of {len} bytes is too short for its family {family:#04x}")]
    V2Short { len: usize, family: u8 },
    #[error("the connection ended inside the PROXY header")]
    Truncated,
    #[error("reading the PROXY header: {0}")]
    Io(String),
}

/// Whether `buf` (what arrived first) begins like a PROXY header of either version.
pub fn looks_like_header(buf: &[u8]) -> bool {
    let n = buf.len().min(12);
    n > 0 && (b"PROXY "[..n.min(6)] == buf[..n.min(6)] || V2_SIGNATURE[..n] == buf[..n])
}

/// Parses the header at the start of `buf`.
pub fn parse(buf: &[u8]) -> Result<Progress, PpError> {
    if buf.is_empty() {
        return Ok(Progress::Need(1));
    }
    let n = buf.len().min(12);
    if buf[..n.min(6)] == b"PROXY "[..n.min(6)] {
        if buf.len() < 6 {
            return Ok(Progress::Need(6 - buf.len()));
        }
        return parse_v1(buf);
    }
    if buf[..n] == V2_SIGNATURE[..n] {
        return parse_v2(buf);
    }
    Err(PpError::Missing)
}

fn parse_v1(buf: &[u8]) -> Result<Progress, PpError> {
    let Some(end) = buf.windows(2).position(|w| w == b"\r\n") else {
        if buf.len() >= MAX_V1_LEN {
            return Err(PpError::V1TooLong);
        }
        return Ok(Progress::Need(1));
    };
    let len = end + 2;
    if len > MAX_V1_LEN {
        return Err(PpError::V1TooLong);
    }
    let line = std::str::from_utf8(&buf[6..end]).map_err(|_| PpError::V1("not ASCII"))?;
    let mut parts = line.split(' ');
    let proto = parts.next().ok_or(PpError::V1("no protocol"))?;
    if proto == "UNKNOWN" {
        // Whatever follows is to be ignored.
        return Ok(Progress::Done {
            header: Header::Local,
            len,
        });
    }
    let ip = |s: Option<&str>| -> Result<IpAddr, PpError> {
        let s = s.ok_or(PpError::V1("missing address"))?;
        match proto {
            "TCP4" => s
                .parse::<Ipv4Addr>()
                .map(IpAddr::V4)
                .map_err(|_| PpError::V1("bad IPv4 address")),
            "TCP6" => s
                .parse::<Ipv6Addr>()
                .map(IpAddr::V6)
                .map_err(|_| PpError::V1("bad IPv6 address")),
            _ => Err(PpError::V1("protocol is not TCP4, TCP6 or UNKNOWN")),
        }
    };
    let port = |s: Option<&str>| -> Result<u16, PpError> {
        let s = s.ok_or(PpError::V1("missing port"))?;
        // Decimal without a sign or leading zeros, as the specification writes them.
        if s.is_empty()
            || (s.len() > 1 && s.starts_with('0'))
            || !s.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(PpError::V1("bad port"));
        }
        s.parse().map_err(|_| PpError::V1("bad port"))
    };
    let src = ip(parts.next())?;
    let dst = ip(parts.next())?;
    let sport = port(parts.next())?;
    let dport = port(parts.next())?;
    if parts.next().is_some() {
        return Err(PpError::V1("extra fields"));
    }
    Ok(Progress::Done {
        header: Header::Proxied {
            source: SocketAddr::new(src, sport),
            destination: SocketAddr::new(dst, dport),
        },
        len,
    })
}

fn parse_v2(buf: &[u8]) -> Result<Progress, PpError> {
    if buf.len() < 16 {
        return Ok(Progress::Need(16 - buf.len()));
    }
    let version = buf[12] >> 4;
    let command = buf[12] & 0x0f;
    if version != 2 {
        return Err(PpError::V2Version(version));
    }
    if command > 1 {
        return Err(PpError::V2Command(command));
    }
    let family = buf[13];
    let len = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if len > MAX_V2_LEN {
        return Err(PpError::V2TooLong(len));
    }
    if buf.len() < 16 + len {
        return Ok(Progress::Need(16 + len - buf.len()));
    }
    let block = &buf[16..16 + len];
    let done = |header| {
        Ok(Progress::Done {
            header,
            len: 16 + len,
        })
    };
    if command == 0 {
        // LOCAL: the balancer's own connection; the block is to be skipped.
        return done(Header::Local);
    }
    // The high nibble is the address family, the low one the transport (1: stream).
    let port = |at: usize| u16::from_be_bytes([block[at], block[at + 1]]);
    match family {
        0x11 => {
            if len < 12 {
                return Err(PpError::V2Short { len, family });
            }
            let ip = |at: usize| {
                IpAddr::V4(Ipv4Addr::new(
                    block[at],
                    block[at + 1],
                    block[at + 2],
                    block[at + 3],
                ))
            };
            done(Header::Proxied {
                source: SocketAddr::new(ip(0), port(8)),
                destination: SocketAddr::new(ip(4), port(10)),
            })
        }
        0x21 => {
            if len < 36 {
                return Err(PpError::V2Short { len, family });
            }
            let ip = |at: usize| {
                let mut o = [0u8; 16];
                o.copy_from_slice(&block[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(o))
            };
            done(Header::Proxied {
                source: SocketAddr::new(ip(0), port(32)),
                destination: SocketAddr::new(ip(16), port(34)),
            })
        }
        // UNSPEC, UDP, Unix sockets: no client address for a TCP proxy to name.
        _ => done(Header::Local),
    }
}

/// Reads exactly one header from `io` (never a byte past it). The caller bounds the time.
pub async fn read_header<R: AsyncRead + Unpin>(io: &mut R) -> Result<Header, PpError> {
    let mut buf = Vec::with_capacity(64);
    // Bounded: each round reads at least one byte, and the header is bounded in bytes.
    loop {
        match parse(&buf)? {
            Progress::Done { header, .. } => return Ok(header),
            Progress::Need(n) => {
                let at = buf.len();
                buf.resize(at + n, 0);
                io.read_exact(&mut buf[at..]).await.map_err(|e| {
                    if e.kind() == std::io::ErrorKind::UnexpectedEof {
                        PpError::Truncated
                    } else {
                        PpError::Io(e.to_string())
                    }
                })?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(buf: &[u8]) -> (Header, usize) {
        match parse(buf).unwrap() {
            Progress::Done { header, len } => (header, len),
            p => panic!("{p:?}"),
        }
    }

    fn v2(command: u8, family: u8, block: &[u8]) -> Vec<u8> {
        let mut b = V2_SIGNATURE.to_vec();
        b.push(0x20 | command);
        b.push(family);
        b.extend_from_slice(&u16::try_from(block.len()).unwrap().to_be_bytes());
        b.extend_from_slice(block);
        b
    }

    #[test]
    fn v1_tcp4_tcp6_and_unknown() {
        let line = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 9000\r\nGET / HTTP/1.1\r\n";
        let (h, len) = done(line);
        assert_eq!(len, 46);
        assert_eq!(h.source(), Some("192.0.2.7:56324".parse().unwrap()));
        let (h, _) = done(b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n");
        assert_eq!(h.source(), Some("[2001:db8::1]:4000".parse().unwrap()));
        assert_eq!(done(b"PROXY UNKNOWN whatever\r\n").0, Header::Local);
        assert_eq!(done(b"PROXY UNKNOWN\r\n").0, Header::Local);
    }

    #[test]
    fn v1_malformed_lines_are_refused() {
        for bad in [
            &b"PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n"[..],
            b"PROXY TCP4 2001:db8::1 198.51.100.1 1 2\r\n",
            b"PROXY TCP6 192.0.2.7 198.51.100.1 1 2\r\n",
            b"PROXY UDP4 192.0.2.7 198.51.100.1 1 2\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 65536 2\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 01 2\r\n",
            b"PROXY TCP4 192.0.2.7 198.51.100.1 1 2 3\r\n",
            b"PROXY TCP4  192.0.2.7 198.51.100.1 1 2\r\n",
        ] {
            assert!(
                matches!(parse(bad), Err(PpError::V1(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = format!("PROXY TCP4 {}", "1".repeat(120));
        assert_eq!(parse(long.as_bytes()), Err(PpError::V1TooLong));
        let long = format!("PROXY TCP4 {}\r\n", "1".repeat(100));
        assert_eq!(parse(long.as_bytes()), Err(PpError::V1TooLong));
    }

    #[test]
    fn v2_ipv4_ipv6_local_and_unspec() {
        let mut block = vec![192, 0, 2, 7, 198, 51, 100, 1];
        block.extend_from_slice(&56324u16.to_be_bytes());
        block.extend_from_slice(&9000u16.to_be_bytes());
        // A TLV after the addresses is skipped.
        block.extend_from_slice(&[0x04, 0x00, 0x01, 0xaa]);
        let mut b = v2(1, 0x11, &block);
        b.extend_from_slice(b"GET /");
        let (h, len) = done(&b);
        assert_eq!(len, 16 + 16);
        assert_eq!(
            h,
            Header::Proxied {
                source: "192.0.2.7:56324".parse().unwrap(),
                destination: "198.51.100.1:9000".parse().unwrap()
            }
        );
        let mut block = Vec::new();
        block.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        block.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
        block.extend_from_slice(&4000u16.to_be_bytes());
        block.extend_from_slice(&443u16.to_be_bytes());
        let (h, _) = done(&v2(1, 0x21, &block));
        assert_eq!(h.source(), Some("[2001:db8::1]:4000".parse().unwrap()));
        assert_eq!(done(&v2(0, 0x11, &[1; 12])).0, Header::Local, "LOCAL");
        assert_eq!(done(&v2(1, 0x00, &[])).0, Header::Local, "UNSPEC");
    }

    #[test]
    fn v2_malformed_truncated_and_oversized_headers() {
        assert_eq!(
            parse(&v2(1, 0x11, &[0; 4])),
            Err(PpError::V2Short {
                len: 4,
                family: 0x11
            })
        );
        assert_eq!(
            parse(&v2(1, 0x21, &[0; 12])),
            Err(PpError::V2Short {
                len: 12,
                family: 0x21
            })
        );
        assert_eq!(parse(&v2(2, 0x11, &[0; 12])), Err(PpError::V2Command(2)));
        let mut b = v2(1, 0x11, &[0; 12]);
        b[12] = 0x11;
        assert_eq!(parse(&b), Err(PpError::V2Version(1)));
        let mut b = v2(1, 0x11, &[]);
        b[14..16].copy_from_slice(&2000u16.to_be_bytes());
        assert_eq!(parse(&b), Err(PpError::V2TooLong(2000)));
        // Truncated: more is needed, exactly.
        let whole = v2(1, 0x11, &[0; 12]);
        assert_eq!(parse(&whole[..5]), Ok(Progress::Need(11)));
        assert_eq!(parse(&whole[..20]), Ok(Progress::Need(8)));
        assert_eq!(parse(b"PRO"), Ok(Progress::Need(3)));
        assert_eq!(parse(b"PROXY TCP4 1.2"), Ok(Progress::Need(1)));
        assert_eq!(parse(b"GET / HTTP/1.1\r\n"), Err(PpError::Missing));
        assert_eq!(
            parse(&[0x16, 3, 1]),
            Err(PpError::Missing),
            "a TLS ClientHello"
        );
    }

    #[test]
    fn detection_of_a_header_that_was_not_asked_for() {
        assert!(looks_like_header(b"PROXY TCP4 ..."));
        assert!(looks_like_header(b"PRO"));
        assert!(looks_like_header(&V2_SIGNATURE[..7]));
        assert!(looks_like_header(&v2(1, 0x11, &[0; 12])));
        assert!(!looks_like_header(b"GET / HTTP/1.1"));
        assert!(!looks_like_header(&[0x16, 3, 1, 0, 5]));
        assert!(!looks_like_header(b""));
    }

    #[tokio::test]
    async fn the_reader_stops_at_the_end_of_the_header() {
        let mut b = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 9000\r\n".to_vec();
        b.extend_from_slice(b"GET / HTTP/1.1\r\n");
        let mut r = &b[..];
        let h = read_header(&mut r).await.unwrap();
        assert_eq!(h.source(), Some("192.0.2.7:56324".parse().unwrap()));
        assert_eq!(r, b"GET / HTTP/1.1\r\n", "nothing past the header was read");
        let mut block = vec![10, 0, 0, 1, 10, 0, 0, 2];
        block.extend_from_slice(&[0, 80, 0, 81]);
        let mut b = v2(1, 0x11, &block);
        b.push(0x16);
        let mut r = &b[..];
        assert!(read_header(&mut r).await.is_ok());
        assert_eq!(r, &[0x16]);
        let whole = v2(1, 0x11, &[0; 12]);
        let mut cut = &whole[..20];
        assert_eq!(read_header(&mut cut).await, Err(PpError::Truncated));
        let mut plain = &b"GET / HTTP/1.1\r\n"[..];
        assert_eq!(read_header(&mut plain).await, Err(PpError::Missing));
    }
}
