//! The proxy's Prometheus metrics (`prometheus-client`), one registry per run.
//!
//! Two writers, each counting what it already knows and nothing more: [`MetricsSink`], a
//! live sink on the consumer thread, counts connections, frames, bytes and findings from the
//! engine's observations and findings (it parses nothing itself); the listener counts
//! handshake refusals, TLS failures and upstream connect latency where they happen, and the
//! proxy's loop sets the tap's state once a second; the relay observes each forwarded frame's
//! forward latency in [`ForwardLatency`] (a histogram of plain atomics: no lock, no
//! allocation, so measuring never delays the traffic). Every label has a bounded set of values
//! (versions, profiles, sides, message types, rule ids, HTTP statuses, a fixed list of TLS
//! reasons): never a station identity or an address. It must not block: all atomics.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;

use crate::engine::{EventKind, Observation, Observed};
use crate::finding::Finding;
use crate::ocpp::Side;
use crate::sink::LiveSink;
use crate::time::Timestamp;

/// A connection's labels: the OCPP version it is judged as and its security profile.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ConnLabels {
    /// `1.6`, `2.0.1`, `2.1` or `none`.
    pub version: &'static str,
    /// `0` (none of the OCPP profiles: plain ws without Basic auth), `1`, `2` or `3`.
    pub profile: &'static str,
}

/// A frame's labels: who sent it and what it was.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FrameLabels {
    /// `charger` or `csms`.
    pub from: &'static str,
    /// `CALL`, `CALLRESULT`, `CALLERROR`, `SEND`, `CALLRESULTERROR`, `unreadable`, `binary`.
    pub message_type: &'static str,
}

/// The sender of the frames a forward-latency histogram times.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FromLabels {
    /// `charger` or `csms`.
    pub from: &'static str,
}

/// Upper bounds of the forward-latency buckets, in nanoseconds: 10 µs to 10 s (a write that
/// waits for a slow reader takes up to `--write-timeout`).
const FORWARD_BOUNDS_NS: [u64; 19] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// A histogram of forward latencies made of plain atomics, so that the relay can observe a
/// frame without a lock or an allocation (`prometheus-client`'s own histogram takes a mutex).
/// Buckets hold their own counts (made cumulative when encoded); the count is their sum, so
/// the `+Inf` bucket always equals `_count`. Clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct ForwardLatency(Arc<ForwardCounts>);

#[derive(Debug, Default)]
struct ForwardCounts {
    /// One per bound, then the `+Inf` bucket.
    buckets: [AtomicU64; FORWARD_BOUNDS_NS.len() + 1],
    sum_ns: AtomicU64,
}

impl ForwardLatency {
    /// One frame took `took` to forward: three relaxed atomic operations at most.
    pub fn observe(&self, took: Duration) {
        let ns = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let i = FORWARD_BOUNDS_NS
            .iter()
            .position(|&b| ns <= b)
            .unwrap_or(FORWARD_BOUNDS_NS.len());
        self.0.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.0.sum_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// Frames observed so far.
    pub fn count(&self) -> u64 {
        self.0
            .buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .sum()
    }
}

impl TypedMetric for ForwardLatency {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for ForwardLatency {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        #[expect(clippy::cast_precision_loss, reason = "seconds for the exposition")]
        let secs = |ns: u64| ns as f64 / 1e9;
        let mut buckets = [(0.0, 0); FORWARD_BOUNDS_NS.len() + 1];
        for (i, (slot, count)) in buckets.iter_mut().zip(&self.0.buckets).enumerate() {
            let bound = FORWARD_BOUNDS_NS.get(i).map_or(f64::INFINITY, |&b| secs(b));
            *slot = (bound, count.load(Ordering::Relaxed));
        }
        let count = buckets.iter().map(|b| b.1).sum();
        encoder.encode_histogram::<NoLabelSet>(
            secs(self.0.sum_ns.load(Ordering::Relaxed)),
            count,
            &buckets,
            None,
        )
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FindingLabels {
    pub rule: &'static str,
    pub severity: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// One of [`crate::source::proxy::tls::ACCEPT_FAILURE_REASONS`].
    pub reason: &'static str,
}

/// Every metric of a run, and the registry that encodes them.
pub struct Metrics {
    registry: Registry,
    pub connections_open: Family<ConnLabels, Gauge>,
    pub connections: Family<ConnLabels, Counter>,
    pub frames: Family<FrameLabels, Counter>,
    pub bytes: Family<FrameLabels, Counter>,
    pub findings: Family<FindingLabels, Counter>,
    pub refusals: Family<StatusLabels, Counter>,
    pub tls_failures: Family<ReasonLabels, Counter>,
    pub accepted: Counter,
    pub upstream_connect: Histogram,
    /// The forward latency of the frames the charger sent (to the CSMS).
    pub forward_from_charger: ForwardLatency,
    /// The forward latency of the frames the CSMS sent (to the charger).
    pub forward_from_csms: ForwardLatency,
    pub inspection_lag: Gauge<f64, AtomicU64>,
    pub inspection_dropped: Counter,
    pub inspection_skipped: Counter,
    pub gaps: Counter,
    pub gap_frames: Counter,
    pub tap_bytes: Gauge,
    pub tap_bytes_limit: Gauge,
    pub draining: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("ocpp_inspector");
        // Both directions' series exist from the start (count 0); the relay holds clones of
        // the two histograms themselves (shared counts), never the family's lock.
        let forward: Family<FromLabels, ForwardLatency> = Family::default();
        let m = Metrics {
            registry: Registry::default(),
            connections_open: Family::default(),
            connections: Family::default(),
            frames: Family::default(),
            bytes: Family::default(),
            findings: Family::default(),
            refusals: Family::default(),
            tls_failures: Family::default(),
            accepted: Counter::default(),
            // 1 ms .. about 16 s.
            upstream_connect: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            forward_from_charger: forward.get_or_create_owned(&FromLabels { from: "charger" }),
            forward_from_csms: forward.get_or_create_owned(&FromLabels { from: "csms" }),
            inspection_lag: Gauge::default(),
            inspection_dropped: Counter::default(),
            inspection_skipped: Counter::default(),
            gaps: Counter::default(),
            gap_frames: Counter::default(),
            tap_bytes: Gauge::default(),
            tap_bytes_limit: Gauge::default(),
            draining: Gauge::default(),
        };
        r.register(
            "connections_open",
            "Relayed connections open now, by OCPP version and security profile",
            m.connections_open.clone(),
        );
        r.register(
            "connections",
            "Relayed connections opened (both handshakes done), by OCPP version and security profile",
            m.connections.clone(),
        );
        r.register(
            "accepted_connections",
            "TCP connections accepted on the listener",
            m.accepted.clone(),
        );
        r.register(
            "frames",
            "Frames inspected, by sender and OCPP-J message type",
            m.frames.clone(),
        );
        r.register(
            "frame_bytes",
            "Payload bytes of the frames inspected, by sender and message type",
            m.bytes.clone(),
        );
        r.register(
            "findings",
            "Findings, by rule and severity",
            m.findings.clone(),
        );
        r.register(
            "handshake_refusals",
            "Charger handshakes refused, by HTTP status (the proxy's own or the CSMS's, passed on)",
            m.refusals.clone(),
        );
        r.register(
            "tls_failures",
            "Charger TLS handshakes that failed, by reason",
            m.tls_failures.clone(),
        );
        r.register(
            "upstream_connect_seconds",
            "Time to reach the CSMS and complete its WebSocket handshake",
            m.upstream_connect.clone(),
        );
        r.register(
            "forward_latency_seconds",
            "Time the proxy takes to forward a text or binary frame, by sender: from the whole message read from the sender (after its last fragment) to its write to the other peer completed (flushed to the socket), tapping for inspection included",
            forward,
        );
        r.register(
            "inspection_lag_seconds",
            "How far behind the traffic inspection was at its last event",
            m.inspection_lag.clone(),
        );
        r.register(
            "inspection_dropped_events",
            "Events dropped from inspection because it lagged (the traffic was forwarded)",
            m.inspection_dropped.clone(),
        );
        r.register(
            "inspection_skipped_frames",
            "Large frames forwarded and recorded but not inspected: the in-flight budget had no room to inspect them (inspection took each as a gap)",
            m.inspection_skipped.clone(),
        );
        r.register(
            "recording_gaps",
            "Gap records: places where frames are missing from the recording (a message lost to the in-flight budget, a write that failed)",
            m.gaps.clone(),
        );
        r.register(
            "recording_gap_frames",
            "Frames the gap records say are missing, where they say how many",
            m.gap_frames.clone(),
        );
        r.register(
            "tap_bytes_in_flight",
            "Bytes of events waiting for inspection (the tap's memory budget in use)",
            m.tap_bytes.clone(),
        );
        r.register(
            "tap_bytes_limit",
            "The tap's memory budget",
            m.tap_bytes_limit.clone(),
        );
        r.register(
            "draining",
            "1 while the proxy drains (not ready), else 0",
            m.draining.clone(),
        );
        Metrics { registry: r, ..m }
    }

    /// The metrics in the OpenMetrics text format (which Prometheus scrapes).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// A handshake refused with this HTTP status.
    pub fn refused(&self, status: u16) {
        self.refusals.get_or_create(&StatusLabels { status }).inc();
    }

    /// A failed TLS accept, by one of the bounded reasons.
    pub fn tls_failed(&self, reason: &'static str) {
        self.tls_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// The CSMS answered its handshake after `took`.
    pub fn upstream_connected(&self, took: Duration) {
        self.upstream_connect.observe(took.as_secs_f64());
    }

    /// The forward-latency histogram of frames `from` sends.
    pub fn forward_latency(&self, from: Side) -> &ForwardLatency {
        match from {
            Side::Charger => &self.forward_from_charger,
            Side::Csms => &self.forward_from_csms,
        }
    }

    /// The tap's state, as the proxy's loop reads it.
    pub fn tap_state(&self, dropped: u64, bytes: usize, limit: usize) {
        self.inspection_dropped
            .inner()
            .store(dropped, std::sync::atomic::Ordering::Relaxed);
        self.tap_bytes.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        self.tap_bytes_limit
            .set(i64::try_from(limit).unwrap_or(i64::MAX));
    }
}

/// The security profile's label.
fn profile_label(p: Option<u8>) -> &'static str {
    match p {
        Some(1) => "1",
        Some(2) => "2",
        Some(3) => "3",
        _ => "0",
    }
}

/// Counts what the engine observed and found. Memory: the labels of each open connection.
pub struct MetricsSink {
    metrics: Arc<Metrics>,
    /// The labels each open connection was counted under (a second connection of one
    /// identity adds one), so its close takes it off the right gauge.
    open: HashMap<Box<str>, Vec<ConnLabels>>,
}

impl MetricsSink {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        MetricsSink {
            metrics,
            open: HashMap::new(),
        }
    }

    fn frame(&self, from: Side, message_type: &'static str, len: usize) {
        let l = FrameLabels {
            from: from.as_str(),
            message_type,
        };
        self.metrics.frames.get_or_create(&l).inc();
        self.metrics
            .bytes
            .get_or_create(&l)
            .inc_by(u64::try_from(len).unwrap_or(u64::MAX));
    }
}

impl LiveSink for MetricsSink {
    fn wants_observations(&self) -> bool {
        true
    }

    fn observe(&mut self, o: &Observation<'_>) {
        match &o.what {
            Observed::Event(EventKind::Open(handshake)) => {
                let l = ConnLabels {
                    version: o.station.version.map_or("none", |v| v.as_str()),
                    profile: profile_label(handshake.security_profile()),
                };
                self.metrics.connections.get_or_create(&l).inc();
                self.metrics.connections_open.get_or_create(&l).inc();
                self.open.entry(o.conn.into()).or_default().push(l);
            }
            Observed::Message(m) => self.frame(m.from, m.message_type().name(), m.text.len()),
            Observed::Event(EventKind::Frame { from, text, .. }) => {
                self.frame(*from, "unreadable", text.len());
            }
            Observed::Event(EventKind::Binary { from, len }) => self.frame(*from, "binary", *len),
            Observed::Event(EventKind::Close { .. }) => {
                if let Some(list) = self.open.get_mut(o.conn) {
                    if let Some(l) = list.pop() {
                        self.metrics.connections_open.get_or_create(&l).dec();
                    }
                    if list.is_empty() {
                        self.open.remove(o.conn);
                    }
                }
            }
            Observed::Event(EventKind::Gap {
                reason: Some(crate::source::proxy::tap::NOT_INSPECTED),
                ..
            }) => {
                // In the recording whole; only inspection took it as a gap.
                self.metrics.inspection_skipped.inc();
            }
            Observed::Event(EventKind::Gap { frames, .. }) => {
                self.metrics.gaps.inc();
                if let Some(n) = frames {
                    self.metrics.gap_frames.inc_by(*n);
                }
            }
        }
        // The lag is read against the clock here (a sink may; the engine does not).
        let lag = Timestamp::now().micros().saturating_sub(o.at.micros());
        #[expect(clippy::cast_precision_loss, reason = "a gauge in seconds")]
        self.metrics.inspection_lag.set(lag.max(0) as f64 / 1e6);
    }

    fn finding(&mut self, f: &Finding) {
        self.metrics
            .findings
            .get_or_create(&FindingLabels {
                rule: f.rule.id,
                severity: f.severity.as_str(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_counters_with_bounded_labels_and_the_eof_marker() {
        let m = Metrics::new();
        m.refused(502);
        m.refused(502);
        m.tls_failed("no-client-cert");
        m.upstream_connected(Duration::from_millis(3));
        let text = m.encode();
        assert!(
            text.contains("ocpp_inspector_handshake_refusals_total{status=\"502\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("ocpp_inspector_tls_failures_total{reason=\"no-client-cert\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("ocpp_inspector_upstream_connect_seconds_count 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    /// A gap observation of CP-1, as the engine hands it over.
    fn gap(frames: Option<u64>, reason: &'static str) -> Observation<'static> {
        Observation {
            conn: "CP-1",
            line: 1,
            at: Timestamp::default(),
            origin: crate::source::event::Origin::Peer,
            what: Observed::Event(EventKind::Gap {
                frames,
                reason: Some(reason),
            }),
            station: crate::engine::StationSummary::default(),
            device: &crate::engine::Identity::UNKNOWN,
        }
    }

    #[test]
    fn a_frame_not_inspected_is_counted_as_skipped_not_as_a_recording_gap() {
        let m = Arc::new(Metrics::new());
        let mut sink = MetricsSink::new(m.clone());
        sink.observe(&gap(Some(1), crate::source::proxy::tap::NOT_INSPECTED));
        let text = m.encode();
        assert!(
            text.contains("ocpp_inspector_inspection_skipped_frames_total 1"),
            "{text}"
        );
        assert!(
            text.contains("ocpp_inspector_recording_gaps_total 0"),
            "{text}"
        );
    }

    #[test]
    fn gap_observations_count_gaps_and_the_frames_they_name() {
        let m = Arc::new(Metrics::new());
        let mut sink = MetricsSink::new(m.clone());
        for frames in [Some(3), None] {
            sink.observe(&gap(frames, "in-flight budget full"));
        }
        let text = m.encode();
        assert!(
            text.contains("ocpp_inspector_recording_gaps_total 2"),
            "{text}"
        );
        assert!(
            text.contains("ocpp_inspector_recording_gap_frames_total 3"),
            "{text}"
        );
    }
}
