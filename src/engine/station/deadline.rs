//! Follow-ups a rule waits for, each with a due time in event time: armed when the rule
//! starts waiting, cleared by the message that satisfies it, and taken out by [`expired`]
//! once an event (or the end of the observation) is past its due time. Bounded: the oldest
//! goes when the list is full. One mechanism for every "X must follow within the window"
//! rule instead of a hand-written remove-while-iterating loop in each. [`Deadline`] is the
//! same for a single wait (kept inline: a wait every station holds costs no allocation).
//!
//! [`Wake`] is when any of them is next due: the engine runs the families' time hooks only for
//! an event past it (and at the end of the observation), so a station nothing waits for
//! costs nothing per event.
//!
//! Kept for every station, so small: a list nothing was ever armed in is one empty pointer.
//! Nothing here reports a finding or reads a clock: the rules pass event time in.
//!
//! [`expired`]: Deadlines::expired

use crate::time::Timestamp;

/// Waiting follow-ups of one kind, each with what the rule needs to report it.
/// At most `CAP` are kept. The list is allocated at the first [`arm`](Deadlines::arm).
#[derive(Debug)]
pub(crate) struct Deadlines<T, const CAP: usize> {
    #[expect(
        clippy::box_collection,
        reason = "a dozen lists per station, most never armed: 8 bytes each against 24 for an empty Vec"
    )]
    items: Option<Box<Vec<(Timestamp, T)>>>,
}

impl<T, const CAP: usize> Default for Deadlines<T, CAP> {
    fn default() -> Self {
        Deadlines { items: None }
    }
}

impl<T, const CAP: usize> Deadlines<T, CAP> {
    /// Starts waiting for `item` until `due`.
    pub(crate) fn arm(&mut self, due: Timestamp, item: T) {
        let items = self
            .items
            .get_or_insert_with(|| Box::new(Vec::with_capacity(CAP.min(4))));
        if items.len() >= CAP {
            items.remove(0);
        }
        items.push((due, item));
    }

    /// Stops waiting for the items `satisfied` says the current message satisfies.
    pub(crate) fn clear(&mut self, mut satisfied: impl FnMut(&T) -> bool) {
        if let Some(items) = &mut self.items {
            items.retain(|(_, item)| !satisfied(item));
        }
    }

    /// Takes out the first armed item `satisfied` says the current message satisfies.
    pub(crate) fn take(&mut self, mut satisfied: impl FnMut(&T) -> bool) -> Option<T> {
        let items = self.items.as_mut()?;
        let i = items.iter().position(|(_, item)| satisfied(item))?;
        Some(items.remove(i).1)
    }

    /// Stops waiting for anything (a reconnect, or the end of the observation before the
    /// windows closed: nothing can be concluded).
    pub(crate) fn clear_all(&mut self) {
        if let Some(items) = &mut self.items {
            items.clear();
        }
    }

    /// Takes out the items whose due time `now` has passed, with their due times, oldest
    /// armed first.
    pub(crate) fn expired(&mut self, now: Timestamp) -> impl Iterator<Item = (Timestamp, T)> + '_ {
        self.items
            .as_deref_mut()
            .into_iter()
            .flat_map(move |items| items.extract_if(.., move |(due, _)| now > *due))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.as_ref().is_none_or(|items| items.is_empty())
    }

    /// The earliest due time of the armed items.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.items.as_deref()?.iter().map(|(due, _)| *due).min()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items
            .as_deref()
            .into_iter()
            .flat_map(|items| items.iter().map(|(_, item)| item))
    }
}

/// One waiting follow-up (a wait a station has at most one of), kept inline.
#[derive(Debug)]
pub(crate) struct Deadline<T> {
    item: Option<(Timestamp, T)>,
}

impl<T> Default for Deadline<T> {
    fn default() -> Self {
        Deadline { item: None }
    }
}

impl<T> Deadline<T> {
    /// Starts waiting for `item` until `due`, instead of what was awaited.
    pub(crate) fn arm(&mut self, due: Timestamp, item: T) {
        self.item = Some((due, item));
    }

    /// Stops waiting.
    pub(crate) fn clear_all(&mut self) {
        self.item = None;
    }

    /// Takes out the item if `now` has passed its due time, with its due time.
    pub(crate) fn expired(&mut self, now: Timestamp) -> Option<(Timestamp, T)> {
        self.item.take_if(|(due, _)| now > *due)
    }

    /// The due time of the armed item.
    pub(crate) fn next_due(&self) -> Option<Timestamp> {
        self.item.as_ref().map(|(due, _)| *due)
    }
}

/// When the rule families of a station next have something to do with the time: the
/// earliest due time any of them waits for (`Family::next_due` tells a family's). Events up
/// to it cannot expire anything, so the engine skips the time hooks for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Wake(Option<Timestamp>);

impl Wake {
    /// Nothing waits.
    pub(crate) const NEVER: Wake = Wake(None);

    /// Something is due at `due` (if anything): wake no later than that.
    pub(crate) fn at(&mut self, due: impl Into<Option<Timestamp>>) {
        if let Some(due) = due.into() {
            self.0 = Some(self.0.map_or(due, |w| w.min(due)));
        }
    }

    /// Whether an event at `now` is past something due (what the time hooks compare: a
    /// wait due at `t` expires for an event after `t`).
    pub(crate) fn passed(self, now: Timestamp) -> bool {
        self.0.is_some_and(|w| now > w)
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
    fn a_single_wait_is_replaced_by_the_next_and_expires_once() {
        let t = Timestamp::from_secs;
        let mut d = Deadline::default();
        d.arm(t(1), 7u64);
        d.arm(t(5), 8u64);
        assert_eq!(d.expired(t(5)), None, "due at 5 is not past at 5");
        assert_eq!(d.expired(t(6)), Some((t(5), 8)));
        assert_eq!(d.expired(t(100)), None);
        d.arm(t(1), 9);
        d.clear_all();
        assert_eq!(d.expired(t(100)), None);
    }

    #[test]
    fn the_wake_is_the_earliest_due_and_passes_only_after_it() {
        let t = Timestamp::from_secs;
        let mut d = Deadlines::<_, 8>::default();
        assert_eq!(d.next_due(), None);
        d.arm(t(30), "a");
        d.arm(t(10), "b");
        d.arm(t(20), "c");
        assert_eq!(d.next_due(), Some(t(10)));
        let mut one = Deadline::default();
        one.arm(t(15), ());
        let mut wake = Wake::NEVER;
        assert!(!wake.passed(t(1_000_000)), "nothing waits: never");
        wake.at(d.next_due());
        wake.at(one.next_due());
        wake.at(None);
        assert_eq!(wake, Wake(Some(t(10))));
        assert!(!wake.passed(t(10)), "due at 10 is not past at 10");
        assert!(wake.passed(t(11)));
        // What expires at an event the wake lets through is exactly what was past due.
        assert_eq!(d.expired(t(11)).collect::<Vec<_>>(), [(t(10), "b")]);
        assert_eq!(d.next_due(), Some(t(20)));
    }

    #[test]
    fn a_list_never_armed_holds_no_allocation() {
        let mut d = Deadlines::<u64, 8>::default();
        assert!(d.items.is_none() && d.is_empty());
        d.clear(|_| true);
        assert_eq!(d.expired(Timestamp::from_secs(1)).count(), 0);
        assert!(d.take(|_| true).is_none());
        assert!(d.items.is_none(), "reading does not allocate");
    }
}
