//! TCP reassembly of one direction of a connection: in-order bytes out, whatever the
//! capture did to the segments: retransmissions and overlaps trimmed, out-of-order segments
//! held back (bounded), and bytes that never came (capture loss, a small snaplen) handed
//! on as [`Chunk::Lost`] so the reader above can resynchronise instead of reading garbage.
//! Memory per direction is bounded by [`MAX_HELD`]; nothing here reads the bytes.

use std::collections::VecDeque;

/// Out-of-order bytes held per direction before the hole in front of them counts as lost.
pub const MAX_HELD: usize = 1 << 20;
/// Out-of-order segments held per direction.
const MAX_HELD_SEGMENTS: usize = 512;

/// What the stream hands on, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    /// Bytes that start where a captured segment's data started (a place where a message
    /// may begin) or continue the stream.
    Data { bytes: Vec<u8>, segment_start: bool },
    /// This many bytes are missing from the stream here.
    Lost(u64),
}

/// `a - b` in sequence space.
fn diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

/// One direction of a TCP connection.
#[derive(Debug, Default)]
pub struct HalfStream {
    /// The next sequence number expected; `None` before the first segment.
    next: Option<u32>,
    /// Segments ahead of `next`: (seq, bytes, captured length short of the wire length).
    held: Vec<(u32, Vec<u8>, usize)>,
    held_bytes: usize,
    /// The sequence number of a FIN seen (the stream ends there).
    fin_at: Option<u32>,
    pub ready: VecDeque<Chunk>,
    /// A SYN was seen: the stream is read from its first byte.
    pub saw_syn: bool,
    pub finished: bool,
}

impl HalfStream {
    /// Takes one segment of this direction.
    pub fn segment(&mut self, seq: u32, syn: bool, fin: bool, payload: &[u8], wire_len: usize) {
        let mut seq = seq;
        if syn {
            self.saw_syn = true;
            seq = seq.wrapping_add(1);
            if self.next.is_none() {
                self.next = Some(seq);
            }
        }
        if fin {
            self.fin_at = Some(seq.wrapping_add(u32::try_from(wire_len).unwrap_or(u32::MAX)));
        }
        let next = *self.next.get_or_insert(seq);
        let missing = wire_len.saturating_sub(payload.len());
        let d = diff(seq, next);
        if d <= 0 {
            let skip = usize::try_from(-d).unwrap_or(usize::MAX);
            if skip < payload.len() {
                self.deliver(&payload[skip..], skip == 0, missing);
            } else if skip < wire_len {
                // Only the part the capture cut off is new.
                self.lose(u64::try_from(wire_len - skip).unwrap_or(u64::MAX));
            }
            self.drain_held();
        } else if !payload.is_empty() || missing > 0 {
            if self.held.len() >= MAX_HELD_SEGMENTS || self.held_bytes + payload.len() > MAX_HELD {
                self.give_up_hole();
            }
            self.held_bytes += payload.len();
            self.held.push((seq, payload.to_vec(), missing));
            self.drain_held();
        }
        self.check_fin();
    }

    /// The peer acknowledged up to `ack`: bytes before it that never came are lost.
    pub fn acked(&mut self, ack: u32) {
        let Some(next) = self.next else { return };
        let d = diff(ack, next);
        // Only a plausible jump (not a stale or wild ack).
        if d > 0 && d < 1 << 30 {
            let first_held = self.held.iter().map(|h| diff(h.0, next)).min();
            match first_held {
                Some(h) if h <= d => self.give_up_hole(),
                _ => {
                    self.lose(u64::try_from(d).unwrap_or(0));
                    self.next = Some(ack);
                    self.drain_held();
                }
            }
        }
    }

    /// The capture ended: whatever is held is delivered after the hole before it.
    pub fn end(&mut self) {
        while !self.held.is_empty() {
            self.give_up_hole();
        }
    }

    fn deliver(&mut self, bytes: &[u8], segment_start: bool, missing: usize) {
        if !bytes.is_empty() {
            self.ready.push_back(Chunk::Data {
                bytes: bytes.to_vec(),
                segment_start,
            });
        }
        let len = u32::try_from(bytes.len() + missing).unwrap_or(u32::MAX);
        self.next = self.next.map(|n| n.wrapping_add(len));
        if missing > 0 {
            self.ready
                .push_back(Chunk::Lost(u64::try_from(missing).unwrap_or(u64::MAX)));
        }
    }

    fn lose(&mut self, n: u64) {
        if n > 0 {
            self.ready.push_back(Chunk::Lost(n));
        }
    }

    /// Skips to the first held segment: the bytes before it are lost.
    fn give_up_hole(&mut self) {
        let Some(next) = self.next else { return };
        let Some(first) = self.held.iter().map(|h| h.0).min_by_key(|s| diff(*s, next)) else {
            return;
        };
        let gap = diff(first, next);
        if gap > 0 {
            self.lose(u64::try_from(gap).unwrap_or(0));
            self.next = Some(first);
        }
        self.drain_held();
    }

    /// Delivers held segments that now follow on.
    fn drain_held(&mut self) {
        loop {
            let Some(next) = self.next else { return };
            let Some(i) = self.held.iter().position(|h| diff(h.0, next) <= 0) else {
                return;
            };
            let (seq, bytes, missing) = self.held.swap_remove(i);
            self.held_bytes -= bytes.len();
            let skip = usize::try_from(diff(next, seq)).unwrap_or(usize::MAX);
            if skip < bytes.len() {
                self.deliver(&bytes[skip..], skip == 0, missing);
            } else if skip < bytes.len() + missing {
                self.lose(u64::try_from(bytes.len() + missing - skip).unwrap_or(0));
                let adv = u32::try_from(bytes.len() + missing - skip).unwrap_or(0);
                self.next = Some(next.wrapping_add(adv));
            }
        }
    }

    fn check_fin(&mut self) {
        if let (Some(f), Some(n)) = (self.fin_at, self.next)
            && diff(n, f) >= 0
            && self.held.is_empty()
        {
            self.finished = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(h: &mut HalfStream) -> (Vec<u8>, u64) {
        let (mut data, mut lost) = (Vec::new(), 0);
        for c in h.ready.drain(..) {
            match c {
                Chunk::Data { bytes, .. } => data.extend(bytes),
                Chunk::Lost(n) => lost += n,
            }
        }
        (data, lost)
    }

    #[test]
    fn retransmissions_overlaps_and_reordering_come_out_in_order() {
        let mut h = HalfStream::default();
        h.segment(u32::MAX - 2, true, false, b"", 0);
        h.segment(u32::MAX - 1, false, false, b"abc", 3); // wraps
        h.segment(u32::MAX - 1, false, false, b"abc", 3); // retransmitted
        h.segment(4, false, false, b"ghi", 3); // ahead
        h.segment(u32::MAX, false, false, b"bcdef", 5); // overlaps
        h.segment(7, false, true, b"", 0);
        let (data, lost) = collect(&mut h);
        assert_eq!(data, b"abcdefghi");
        assert_eq!(lost, 0);
        assert!(h.finished);
    }

    #[test]
    fn a_hole_the_peer_acknowledged_is_lost_and_reading_goes_on() {
        let mut h = HalfStream::default();
        h.segment(100, false, false, b"abc", 3);
        h.segment(106, false, false, b"ghi", 3); // def never captured
        h.acked(109);
        let (data, lost) = collect(&mut h);
        assert_eq!(data, b"abcghi");
        assert_eq!(lost, 3);
        // A cut packet: the missing tail is lost.
        h.segment(109, false, false, b"jk", 5);
        let (data, lost) = collect(&mut h);
        assert_eq!((data.as_slice(), lost), (&b"jk"[..], 3));
        h.segment(114, false, false, b"z", 1);
        assert_eq!(collect(&mut h), (b"z".to_vec(), 0));
    }

    #[test]
    fn held_bytes_stay_bounded_and_end_flushes() {
        let mut h = HalfStream::default();
        h.segment(0, false, false, b"a", 1);
        let big = vec![b'x'; 4096];
        for i in 0..1000u32 {
            h.segment(10 + i * 4096, false, false, &big, big.len());
            assert!(h.held_bytes <= MAX_HELD);
        }
        h.end();
        let (data, lost) = collect(&mut h);
        assert_eq!(lost, 9);
        assert_eq!(data.len(), 1 + 1000 * 4096);
    }
}
