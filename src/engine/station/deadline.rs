//! Follow-ups a rule waits for, each with a due time in event time: armed when the rule
//! starts waiting, cleared by the message that satisfies it, and taken out by [`expired`]
//! once an event (or the end of the observation) is past its due time. Bounded: the oldest
//! goes when the list is full. One mechanism for every "X must follow within the window"
//! rule instead of a hand-written remove-while-iterating loop in each.
//!
//! [`expired`]: Deadlines::expired

use crate::time::Timestamp;

/// Waiting follow-ups of one kind, each with what the rule needs to report it.
/// At most `CAP` are kept.
#[derive(Debug)]
pub(crate) struct Deadlines<T, const CAP: usize> {
    items: Vec<(Timestamp, T)>,
}

impl<T, const CAP: usize> Default for Deadlines<T, CAP> {
    fn default() -> Self {
        Deadlines { items: Vec::new() }
    }
}

impl<T, const CAP: usize> Deadlines<T, CAP> {
    /// Starts waiting for `item` until `due`.
    pub(crate) fn arm(&mut self, due: Timestamp, item: T) {
        if self.items.len() >= CAP {
            self.items.remove(0);
        }
        if self.items.capacity() == 0 {
            // A first push would make room for four; a single watch (a list of one, kept
            // for every station) needs room for one.
            self.items.reserve_exact(CAP.min(4));
        }
        self.items.push((due, item));
    }

    /// Stops waiting for the items `satisfied` says the current message satisfies.
    pub(crate) fn clear(&mut self, mut satisfied: impl FnMut(&T) -> bool) {
        self.items.retain(|(_, item)| !satisfied(item));
    }

    /// Takes out the first armed item `satisfied` says the current message satisfies.
    pub(crate) fn take(&mut self, mut satisfied: impl FnMut(&T) -> bool) -> Option<T> {
        let i = self.items.iter().position(|(_, item)| satisfied(item))?;
        Some(self.items.remove(i).1)
    }

    /// Stops waiting for anything (a reconnect, or the end of the observation before the
    /// windows closed: nothing can be concluded).
    pub(crate) fn clear_all(&mut self) {
        self.items.clear();
    }

    /// Takes out the items whose due time `now` has passed, with their due times, oldest
    /// armed first.
    pub(crate) fn expired(&mut self, now: Timestamp) -> impl Iterator<Item = (Timestamp, T)> + '_ {
        self.items.extract_if(.., move |(due, _)| now > *due)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter().map(|(_, item)| item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_past_due_expires_and_cleared_items_never_do() {
        let t = Timestamp::from_secs;
        let mut d = Deadlines::<_, 8>::default();
        d.arm(t(10), "a");
        d.arm(t(20), "b");
        d.arm(t(5), "c");
        d.clear(|x| *x == "c");
        assert_eq!(d.expired(t(10)).count(), 0, "due at 10 is not past at 10");
        assert_eq!(d.expired(t(11)).collect::<Vec<_>>(), [(t(10), "a")]);
        assert_eq!(d.iter().copied().collect::<Vec<_>>(), ["b"]);
        assert_eq!(d.expired(t(100)).collect::<Vec<_>>(), [(t(20), "b")]);
        assert!(d.is_empty());
    }

    #[test]
    fn the_oldest_goes_when_full() {
        let mut d = Deadlines::<_, 2>::default();
        for (s, x) in [(1, "a"), (2, "b"), (3, "c")] {
            d.arm(Timestamp::from_secs(s), x);
        }
        assert_eq!(d.iter().copied().collect::<Vec<_>>(), ["b", "c"]);
    }

    #[test]
    fn a_single_watch_holds_room_for_one() {
        let mut d = Deadlines::<_, 1>::default();
        d.arm(Timestamp::from_secs(1), 7u64);
        d.arm(Timestamp::from_secs(2), 8u64);
        assert_eq!(
            d.items.capacity(),
            1,
            "kept for every station: no spare room"
        );
        assert_eq!(d.iter().copied().collect::<Vec<_>>(), [8]);
    }
}
