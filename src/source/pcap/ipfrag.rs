//! IPv4 reassembly for captures: the fragments of a datagram carrying TCP are put back
//! together (in any order, overlaps and duplicates allowed) into one datagram that the link
//! reader reads like any other. Bounded: at most [`MAX_PENDING`] datagrams wait at once,
//! each at most 64 KiB; one that never completes is dropped, counted, and its bytes become
//! the TCP reader's gap. It reads only the fragments it is handed.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use super::link::Ipv4Fragment;

/// Datagrams waiting for their fragments at most; beyond, the oldest is dropped.
pub const MAX_PENDING: usize = 256;
/// The largest IPv4 datagram payload.
const MAX_DATAGRAM: usize = 65_535;

struct Pending {
    /// The first fragment's IP header, once seen.
    header: Option<Vec<u8>>,
    /// The payload so far, and which of its bytes are known.
    bytes: Vec<u8>,
    known: Vec<bool>,
    /// The payload's length, once the last fragment is seen.
    total: Option<usize>,
    /// When it started (arrival order), for dropping the oldest.
    since: u64,
}

/// Datagrams being reassembled.
#[derive(Default)]
pub struct Reassembly {
    pending: HashMap<(Ipv4Addr, Ipv4Addr, u16), Pending>,
    arrivals: u64,
    /// Datagrams given up (never completed, or too large).
    pub dropped: u64,
    /// Datagrams put back together.
    pub reassembled: u64,
}

impl Reassembly {
    /// Adds a fragment; the whole datagram (an IPv4 packet without fragmentation) once
    /// every part of it has come.
    pub fn add(&mut self, f: &Ipv4Fragment<'_>) -> Option<Vec<u8>> {
        self.arrivals += 1;
        let end = f.offset + f.payload.len();
        if end > MAX_DATAGRAM {
            self.pending.remove(&f.key);
            self.dropped += 1;
            return None;
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
            self.dropped += 1;
        }
        let since = self.arrivals;
        let p = self.pending.entry(f.key).or_insert_with(|| Pending {
            header: None,
            bytes: Vec::new(),
            known: Vec::new(),
            total: None,
            since,
        });
        if p.bytes.len() < end {
            p.bytes.resize(end, 0);
            p.known.resize(end, false);
        }
        p.bytes[f.offset..end].copy_from_slice(f.payload);
        p.known[f.offset..end].iter_mut().for_each(|k| *k = true);
        if f.offset == 0 {
            p.header = Some(f.header.to_vec());
        }
        if !f.more {
            p.total = Some(end);
        }
        let total = p.total?;
        if p.header.is_none() || p.known.len() < total || !p.known[..total].iter().all(|k| *k) {
            return None;
        }
        let p = self.pending.remove(&f.key)?;
        let mut datagram = p.header?;
        let len = u16::try_from(datagram.len() + total).ok()?;
        datagram[2..4].copy_from_slice(&len.to_be_bytes());
        // No longer a fragment: flags and offset cleared (the checksum is not read).
        datagram[6..8].copy_from_slice(&[0, 0]);
        datagram.extend_from_slice(&p.bytes[..total]);
        self.reassembled += 1;
        Some(datagram)
    }

    /// Datagrams still incomplete (at the end of the capture).
    pub fn incomplete(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(id: u16, offset: usize, more: bool, payload: &[u8]) -> Ipv4Fragment<'_> {
        static HEADER: [u8; 20] = [
            0x45, 0, 0, 0, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        Ipv4Fragment {
            key: (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2), id),
            offset,
            more,
            header: &HEADER,
            payload,
        }
    }

    #[test]
    fn fragments_in_any_order_make_the_datagram_once() {
        let data: Vec<u8> = (0..40u8).collect();
        let mut r = Reassembly::default();
        assert_eq!(r.add(&frag(7, 32, false, &data[32..])), None);
        assert_eq!(r.add(&frag(7, 0, true, &data[..16])), None);
        // A duplicate changes nothing.
        assert_eq!(r.add(&frag(7, 0, true, &data[..16])), None);
        let d = r.add(&frag(7, 16, true, &data[16..32])).expect("complete");
        assert_eq!(&d[20..], &data[..]);
        assert_eq!(u16::from_be_bytes([d[2], d[3]]), 60);
        assert_eq!(&d[6..8], &[0, 0]);
        assert_eq!((r.reassembled, r.incomplete()), (1, 0));
        // One missing part: never complete.
        assert_eq!(r.add(&frag(8, 0, true, &data[..16])), None);
        assert_eq!(r.add(&frag(8, 32, false, &data[32..])), None);
        assert_eq!(r.incomplete(), 1);
    }
}
