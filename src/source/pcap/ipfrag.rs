//! IP reassembly for captures, one mechanism for IPv4 and IPv6: the fragments of a datagram
//! (in any order, duplicates allowed) are put back together into one unfragmented datagram
//! that the link reader reads like any other. Bounded: at most [`MAX_PENDING`] datagrams
//! wait at once, each at most 64 KiB; one that never completes is dropped and counted, and
//! its bytes become the TCP reader's gap. Fragments that contradict each other (an overlap
//! with other bytes, a part past the datagram's end, a middle part not a multiple of 8
//! bytes) drop their datagram with a reason; never a panic. It reads only the fragments it
//! is handed and keeps no clock.

use std::collections::{HashMap, VecDeque};

use super::link::{FragKey, Fragment};

/// Datagrams waiting for their fragments at most; beyond, the oldest is dropped.
pub const MAX_PENDING: usize = 256;
/// The largest IP payload (IPv4 datagram after its header; IPv6 payload length).
const MAX_DATAGRAM: usize = 65_535;

struct Pending {
    /// The first fragment's unfragmentable part (header and, for IPv6, the extension
    /// headers before the Fragment header), once seen.
    header: Option<Vec<u8>>,
    /// IPv6: where in `header` the byte naming the Fragment header is, and what follows it.
    next: Option<(usize, u8)>,
    /// The payload so far, and which of its bytes are known.
    bytes: Vec<u8>,
    known: Vec<bool>,
    /// The payload's length, once the last fragment is seen.
    total: Option<usize>,
    /// When it started (arrival order), for dropping the oldest.
    since: u64,
}

/// What adding a fragment gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    /// More fragments are needed.
    Waiting,
    /// The whole datagram (an unfragmented IPv4 or IPv6 packet, from its IP header on).
    Whole(Vec<u8>),
    /// The fragment contradicts its datagram's others: the datagram is dropped (why).
    Bogus(String),
}

/// Counts per address family.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Datagrams put back together.
    pub reassembled: u64,
    /// Datagrams given up for room (the oldest beyond [`MAX_PENDING`]).
    pub evicted: u64,
    /// Datagrams dropped because their fragments contradicted each other.
    pub bogus: u64,
}

/// Datagrams being reassembled.
#[derive(Default)]
pub struct Reassembly {
    pending: HashMap<FragKey, Pending>,
    /// Datagrams dropped as bogus: their later fragments are ignored (bounded).
    refused: VecDeque<FragKey>,
    arrivals: u64,
    /// IPv4, IPv6.
    pub counts: [Counts; 2],
}

fn family(key: &FragKey) -> usize {
    match key {
        FragKey::V4 { .. } => 0,
        FragKey::V6 { .. } => 1,
    }
}

impl Reassembly {
    /// Adds a fragment.
    pub fn add(&mut self, f: &Fragment<'_>) -> Added {
        self.arrivals += 1;
        let fam = family(&f.key);
        if self.refused.contains(&f.key) {
            return Added::Waiting;
        }
        let end = f.offset + f.payload.len();
        // IPv6 counts the unfragmentable extension headers in its payload length.
        let extra = if fam == 1 {
            f.header.len().saturating_sub(40)
        } else {
            0
        };
        if end + extra > MAX_DATAGRAM {
            return self.refuse(
                f.key,
                format!("a fragment reaches byte {end}, past the largest datagram"),
            );
        }
        if f.more && !f.payload.len().is_multiple_of(8) {
            return self.refuse(
                f.key,
                format!(
                    "a fragment that is not the last is {} bytes long, not a multiple of 8",
                    f.payload.len()
                ),
            );
        }
        if !self.pending.contains_key(&f.key)
            && self.pending.len() >= MAX_PENDING
            && let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.since)
                .map(|(k, _)| *k)
        {
            self.pending.remove(&oldest);
            self.counts[family(&oldest)].evicted += 1;
        }
        let since = self.arrivals;
        let p = self.pending.entry(f.key).or_insert_with(|| Pending {
            header: None,
            next: None,
            bytes: Vec::new(),
            known: Vec::new(),
            total: None,
            since,
        });
        if let Some(total) = p.total
            && (end > total || (!f.more && end != total))
        {
            return self.refuse(
                f.key,
                format!("a fragment ends at byte {end}, but the datagram's last fragment ended it at {total}"),
            );
        }
        let reach = p.known.len();
        if !f.more && reach > end {
            return self.refuse(
                f.key,
                format!(
                    "the last fragment ends at byte {end}, but another fragment reaches byte {reach}"
                ),
            );
        }
        if p.bytes.len() < end {
            p.bytes.resize(end, 0);
            p.known.resize(end, false);
        }
        let clash = p.known[f.offset..end]
            .iter()
            .zip(&p.bytes[f.offset..end])
            .zip(f.payload)
            .any(|((k, old), new)| *k && old != new);
        if clash {
            return self.refuse(
                f.key,
                format!(
                    "fragments overlap with different bytes (bytes {}..{end})",
                    f.offset
                ),
            );
        }
        p.bytes[f.offset..end].copy_from_slice(f.payload);
        p.known[f.offset..end].iter_mut().for_each(|k| *k = true);
        if f.offset == 0 {
            p.header = Some(f.header.to_vec());
            p.next = f.next;
        }
        if !f.more {
            p.total = Some(end);
        }
        let Some(total) = p.total else {
            return Added::Waiting;
        };
        if p.header.is_none() || p.known.len() < total || !p.known[..total].iter().all(|k| *k) {
            return Added::Waiting;
        }
        let Some(p) = self.pending.remove(&f.key) else {
            return Added::Waiting;
        };
        let Some(mut datagram) = p.header else {
            return Added::Waiting;
        };
        match p.next {
            None => {
                // IPv4: the total length, and no longer a fragment (the checksum is not read).
                let Ok(len) = u16::try_from(datagram.len() + total) else {
                    return self.refuse(f.key, "the datagram is over 64 KiB".into());
                };
                datagram[2..4].copy_from_slice(&len.to_be_bytes());
                datagram[6..8].copy_from_slice(&[0, 0]);
            }
            Some((at, next)) => {
                // IPv6: the Fragment header is gone; the header before it names what followed it.
                let Ok(len) = u16::try_from(datagram.len() - 40 + total) else {
                    return self.refuse(f.key, "the datagram is over 64 KiB".into());
                };
                datagram[4..6].copy_from_slice(&len.to_be_bytes());
                datagram[at] = next;
            }
        }
        datagram.extend_from_slice(&p.bytes[..total]);
        self.counts[fam].reassembled += 1;
        Added::Whole(datagram)
    }

    fn refuse(&mut self, key: FragKey, why: String) -> Added {
        self.pending.remove(&key);
        self.counts[family(&key)].bogus += 1;
        if self.refused.len() >= MAX_PENDING {
            self.refused.pop_front();
        }
        self.refused.push_back(key);
        Added::Bogus(why)
    }

    /// Datagrams of IPv4 (0) or IPv6 (1) still incomplete (at the end of the capture).
    pub fn incomplete(&self, fam: usize) -> usize {
        self.pending.keys().filter(|k| family(k) == fam).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    static HEADER4: [u8; 20] = [
        0x45, 0, 0, 0, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];

    fn frag(id: u16, offset: usize, more: bool, payload: &[u8]) -> Fragment<'_> {
        Fragment {
            key: FragKey::V4 {
                src: Ipv4Addr::new(10, 0, 0, 1),
                dst: Ipv4Addr::new(10, 0, 0, 2),
                id,
            },
            offset,
            more,
            header: &HEADER4,
            next: None,
            payload,
        }
    }

    /// An IPv6 header followed by an 8-byte hop-by-hop header that names the Fragment header.
    fn header6() -> Vec<u8> {
        let mut h = vec![0x60, 0, 0, 0, 0, 0, 0, 64];
        h.extend(Ipv6Addr::LOCALHOST.octets());
        h.extend(Ipv6Addr::LOCALHOST.octets());
        h.extend([44, 0, 1, 4, 0, 0, 0, 0]);
        h
    }

    fn frag6<'a>(header: &'a [u8], offset: usize, more: bool, payload: &'a [u8]) -> Fragment<'a> {
        Fragment {
            key: FragKey::V6 {
                src: Ipv6Addr::LOCALHOST,
                dst: Ipv6Addr::LOCALHOST,
                id: 9,
            },
            offset,
            more,
            header,
            next: Some((40, 6)),
            payload,
        }
    }

    #[test]
    fn fragments_in_any_order_make_the_datagram_once() {
        let data: Vec<u8> = (0..40u8).collect();
        let mut r = Reassembly::default();
        assert_eq!(r.add(&frag(7, 32, false, &data[32..])), Added::Waiting);
        assert_eq!(r.add(&frag(7, 0, true, &data[..16])), Added::Waiting);
        // A duplicate changes nothing.
        assert_eq!(r.add(&frag(7, 0, true, &data[..16])), Added::Waiting);
        let Added::Whole(d) = r.add(&frag(7, 16, true, &data[16..32])) else {
            panic!("complete");
        };
        assert_eq!(&d[20..], &data[..]);
        assert_eq!(u16::from_be_bytes([d[2], d[3]]), 60);
        assert_eq!(&d[6..8], &[0, 0]);
        assert_eq!((r.counts[0].reassembled, r.incomplete(0)), (1, 0));
        // One missing part: never complete.
        assert_eq!(r.add(&frag(8, 0, true, &data[..16])), Added::Waiting);
        assert_eq!(r.add(&frag(8, 32, false, &data[32..])), Added::Waiting);
        assert_eq!((r.incomplete(0), r.incomplete(1)), (1, 0));
    }

    #[test]
    fn ipv6_fragments_drop_the_fragment_header() {
        let data: Vec<u8> = (0..40u8).collect();
        let h = header6();
        let mut r = Reassembly::default();
        assert_eq!(r.add(&frag6(&h, 24, false, &data[24..])), Added::Waiting);
        let Added::Whole(d) = r.add(&frag6(&h, 0, true, &data[..24])) else {
            panic!("complete");
        };
        assert_eq!(d.len(), 48 + 40);
        // Payload length counts the hop-by-hop header; it now names TCP.
        assert_eq!(u16::from_be_bytes([d[4], d[5]]), 48);
        assert_eq!(d[40], 6);
        assert_eq!(&d[48..], &data[..]);
        assert_eq!(r.counts[1].reassembled, 1);
        assert_eq!(r.counts[0], Counts::default());
    }

    #[test]
    fn contradicting_fragments_drop_their_datagram_with_a_reason() {
        let data: Vec<u8> = (0..40u8).collect();
        let other: Vec<u8> = (100..140u8).collect();
        let h = header6();
        let mut r = Reassembly::default();
        // An overlap with other bytes.
        assert_eq!(r.add(&frag6(&h, 0, true, &data[..16])), Added::Waiting);
        let Added::Bogus(why) = r.add(&frag6(&h, 8, true, &other[..16])) else {
            panic!("refused");
        };
        assert!(why.contains("overlap"), "{why}");
        // Later fragments of it are not collected again.
        assert_eq!(r.add(&frag6(&h, 16, false, &data[16..])), Added::Waiting);
        assert_eq!((r.incomplete(1), r.counts[1].bogus), (0, 1));
        // A middle part not a multiple of 8; past the end; a second, different end.
        assert!(matches!(
            r.add(&frag(1, 0, true, &data[..10])),
            Added::Bogus(_)
        ));
        assert!(matches!(
            r.add(&frag(2, 65_530, false, &data[..16])),
            Added::Bogus(_)
        ));
        assert_eq!(r.add(&frag(3, 16, false, &data[16..24])), Added::Waiting);
        assert!(matches!(
            r.add(&frag(3, 24, false, &data[24..32])),
            Added::Bogus(_)
        ));
        assert_eq!(r.add(&frag(4, 16, true, &data[16..32])), Added::Waiting);
        assert!(matches!(
            r.add(&frag(4, 0, false, &data[..8])),
            Added::Bogus(_)
        ));
        assert_eq!(r.counts[0].bogus, 4);
        assert_eq!(r.incomplete(0), 0);
    }

    #[test]
    fn at_most_max_pending_datagrams_wait() {
        let data = [0u8; 8];
        let mut r = Reassembly::default();
        for id in 0..(MAX_PENDING as u16 + 10) {
            assert_eq!(r.add(&frag(id, 0, true, &data)), Added::Waiting);
        }
        assert_eq!(r.incomplete(0), MAX_PENDING);
        assert_eq!(r.counts[0].evicted, 10);
    }
}
