//! Statistics of what the UI was fed, for the Statistics pane: per station and per action
//! counts, calls left unanswered, round trips (min, median, p99) and findings per rule.
//!
//! It counts what the engine observed (a reply's round trip is the time from the CALL the
//! engine paired it with, never re-derived), over everything seen, not only the rows kept.
//! Memory is bounded: round trips go into a histogram of logarithmic buckets (about 2%
//! wide, at most [`BUCKETS`] a row), not a list of samples. No I/O, no clock.

use std::collections::HashMap;
use std::sync::Arc;

use crate::finding::{Finding, Severity};
use crate::wire::frame::MessageType;

/// Buckets of a round-trip histogram: 1 µs to about 1.7 days at 2% each (longer ones go
/// in the last).
pub const BUCKETS: usize = 1300;

/// Relative width of a bucket.
const GROWTH: f64 = 1.02;

/// Round trips in a bounded histogram; the exact minimum and maximum are kept too.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoundTrips {
    /// Bucket index → count (only buckets seen).
    buckets: HashMap<u16, u64>,
    pub count: u64,
    /// In microseconds.
    pub min: Option<i64>,
    pub max: Option<i64>,
}

fn bucket_of(us: i64) -> u16 {
    let v = us.max(1) as f64;
    let i = (v.ln() / GROWTH.ln()).floor();
    (i as usize).min(BUCKETS - 1) as u16
}

/// The middle of a bucket, in microseconds.
fn bucket_value(i: u16) -> f64 {
    GROWTH.powf(f64::from(i) + 0.5)
}

impl RoundTrips {
    pub fn add(&mut self, us: i64) {
        let us = us.max(0);
        *self.buckets.entry(bucket_of(us)).or_default() += 1;
        self.count += 1;
        self.min = Some(self.min.map_or(us, |m| m.min(us)));
        self.max = Some(self.max.map_or(us, |m| m.max(us)));
    }

    /// The `q` quantile (0..=1) in microseconds: within a bucket's width (2%), and never
    /// outside the exact minimum and maximum.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let (min, max) = (self.min?, self.max?);
        let rank = ((q.clamp(0.0, 1.0) * self.count as f64).ceil() as u64).max(1);
        let mut keys: Vec<u16> = self.buckets.keys().copied().collect();
        keys.sort_unstable();
        let mut seen = 0;
        for k in keys {
            seen += self.buckets[&k];
            if seen >= rank {
                return Some(bucket_value(k).clamp(min as f64, max as f64));
            }
        }
        Some(max as f64)
    }

    /// Buckets in use (what the memory is bounded by).
    pub fn buckets_used(&self) -> usize {
        self.buckets.len()
    }
}

/// Counts of one station or one action.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Frames (messages, unreadable and binary frames).
    pub frames: u64,
    /// CALLs sent.
    pub calls: u64,
    /// Answers the engine paired with a CALL.
    pub answered: u64,
    /// Of those, CALLERRORs (and CALLRESULTERRORs).
    pub errors: u64,
    pub findings: u64,
    pub rtt: RoundTrips,
}

impl Counts {
    /// CALLs with no answer paired (yet).
    pub fn unanswered(&self) -> u64 {
        self.calls.saturating_sub(self.answered)
    }
}

/// Findings of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleCount {
    pub rule: &'static str,
    pub severity: Severity,
    pub count: u64,
}

/// What a table is sorted by (`o` cycles).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortBy {
    /// Name, A to Z.
    Name,
    /// Count (frames, CALLs, findings), most first.
    #[default]
    Count,
    /// Unanswered CALLs, most first.
    Unanswered,
    /// Median round trip, slowest first.
    Median,
    /// p99 round trip, slowest first.
    P99,
}

impl SortBy {
    pub fn next(self) -> SortBy {
        match self {
            SortBy::Name => SortBy::Count,
            SortBy::Count => SortBy::Unanswered,
            SortBy::Unanswered => SortBy::Median,
            SortBy::Median => SortBy::P99,
            SortBy::P99 => SortBy::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortBy::Name => "name",
            SortBy::Count => "count",
            SortBy::Unanswered => "unanswered",
            SortBy::Median => "median",
            SortBy::P99 => "p99",
        }
    }
}

/// Everything the pane shows.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub stations: HashMap<Arc<str>, Counts>,
    pub actions: HashMap<Arc<str>, Counts>,
    pub rules: HashMap<&'static str, RuleCount>,
    pub sort: SortBy,
}

impl Stats {
    /// Counts one frame: `action` is the CALL's (for an answer, of the CALL it answers);
    /// `round_trip` the microseconds since the CALL the engine paired an answer with.
    pub fn frame(
        &mut self,
        station: &Arc<str>,
        action: Option<&Arc<str>>,
        message_type: Option<MessageType>,
        round_trip: Option<i64>,
    ) {
        let mut rows = vec![entry(&mut self.stations, station)];
        if let Some(a) = action {
            rows.push(entry(&mut self.actions, a));
        }
        for c in rows {
            c.frames += 1;
            match message_type {
                Some(MessageType::Call) => c.calls += 1,
                Some(
                    t @ (MessageType::CallResult
                    | MessageType::CallError
                    | MessageType::CallResultError),
                ) if round_trip.is_some() => {
                    c.answered += 1;
                    if t != MessageType::CallResult {
                        c.errors += 1;
                    }
                    c.rtt.add(round_trip.unwrap_or(0));
                }
                _ => {}
            }
        }
    }

    /// Counts one finding.
    pub fn finding(&mut self, f: &Finding, action: Option<&Arc<str>>) {
        entry(&mut self.stations, &f.conn).findings += 1;
        if let Some(a) = action {
            entry(&mut self.actions, a).findings += 1;
        }
        let r = self.rules.entry(f.rule.id).or_insert(RuleCount {
            rule: f.rule.id,
            severity: f.severity,
            count: 0,
        });
        r.count += 1;
        r.severity = r.severity.max(f.severity);
    }

    /// A table's rows in the order of [`Stats::sort`].
    pub fn sorted<'a>(
        &self,
        table: &'a HashMap<Arc<str>, Counts>,
    ) -> Vec<(&'a Arc<str>, &'a Counts)> {
        let mut v: Vec<_> = table.iter().collect();
        let key = |c: &Counts, q: f64| c.rtt.quantile(q).unwrap_or(-1.0);
        v.sort_by(|(na, a), (nb, b)| {
            let by = match self.sort {
                SortBy::Name => std::cmp::Ordering::Equal,
                SortBy::Count => b.frames.cmp(&a.frames),
                SortBy::Unanswered => b.unanswered().cmp(&a.unanswered()),
                SortBy::Median => key(b, 0.5).total_cmp(&key(a, 0.5)),
                SortBy::P99 => key(b, 0.99).total_cmp(&key(a, 0.99)),
            };
            by.then_with(|| na.cmp(nb))
        });
        v
    }

    /// Rules by count (most first), or by id for [`SortBy::Name`].
    pub fn sorted_rules(&self) -> Vec<RuleCount> {
        let mut v: Vec<RuleCount> = self.rules.values().copied().collect();
        v.sort_by(|a, b| {
            let by = if self.sort == SortBy::Name {
                std::cmp::Ordering::Equal
            } else {
                b.count.cmp(&a.count)
            };
            by.then_with(|| a.rule.cmp(b.rule))
        });
        v
    }
}

fn entry<'a>(table: &'a mut HashMap<Arc<str>, Counts>, name: &Arc<str>) -> &'a mut Counts {
    if !table.contains_key(name) {
        table.insert(name.clone(), Counts::default());
    }
    table
        .get_mut(name)
        .unwrap_or_else(|| unreachable!("inserted above"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_within_a_bucket_and_memory_is_bounded() {
        let mut r = RoundTrips::default();
        for ms in 1..=1000 {
            r.add(ms * 1000);
        }
        assert_eq!((r.min, r.max, r.count), (Some(1000), Some(1_000_000), 1000));
        let med = r.quantile(0.5).unwrap();
        assert!((med / 500_000.0 - 1.0).abs() < 0.02, "{med}");
        let p99 = r.quantile(0.99).unwrap();
        assert!((p99 / 990_000.0 - 1.0).abs() < 0.02, "{p99}");
        assert_eq!(
            r.quantile(0.0),
            Some(1000.0),
            "clamped to the exact minimum"
        );
        // A million more samples over any range use no more than BUCKETS buckets.
        for i in 0..1_000_000_i64 {
            r.add(i.wrapping_mul(7_919) % 10_000_000_000);
        }
        assert!(r.buckets_used() <= BUCKETS, "{}", r.buckets_used());
        assert_eq!(RoundTrips::default().quantile(0.5), None);
    }

    #[test]
    fn calls_answers_and_unanswered_per_station_and_action() {
        let mut s = Stats::default();
        let (cp, boot, hb): (Arc<str>, Arc<str>, Arc<str>) =
            ("CP".into(), "BootNotification".into(), "Heartbeat".into());
        s.frame(&cp, Some(&boot), Some(MessageType::Call), None);
        s.frame(
            &cp,
            Some(&boot),
            Some(MessageType::CallResult),
            Some(20_000),
        );
        s.frame(&cp, Some(&hb), Some(MessageType::Call), None);
        s.frame(&cp, Some(&hb), Some(MessageType::Call), None);
        s.frame(&cp, Some(&hb), Some(MessageType::CallError), Some(5_000));
        // An answer the engine paired with nothing counts as a frame only.
        s.frame(&cp, None, Some(MessageType::CallResult), None);
        let c = &s.stations[&cp];
        assert_eq!((c.frames, c.calls, c.answered, c.errors), (6, 3, 2, 1));
        assert_eq!(c.unanswered(), 1);
        let h = &s.actions[&hb];
        assert_eq!(
            (h.calls, h.answered, h.unanswered(), h.errors),
            (2, 1, 1, 1)
        );
        assert_eq!(h.rtt.min, Some(5_000));
        assert_eq!(s.actions[&boot].rtt.min, Some(20_000));
        s.sort = SortBy::Median;
        let order: Vec<&str> = s.sorted(&s.actions).iter().map(|(n, _)| &***n).collect();
        assert_eq!(order, ["BootNotification", "Heartbeat"]);
        s.sort = SortBy::Unanswered;
        let order: Vec<&str> = s.sorted(&s.actions).iter().map(|(n, _)| &***n).collect();
        assert_eq!(order, ["Heartbeat", "BootNotification"]);
        s.sort = SortBy::Name.next().next().next().next().next();
        assert_eq!(s.sort, SortBy::Name);
    }
}
