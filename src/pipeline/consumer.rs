//! The tap's far end: the consumer thread of a live run. It owns the engine, the trace
//! recorder and the sinks, and for each tapped event, in arrival order: writes the trace
//! record (flushed), feeds the engine (with observations when a sink wants them), and hands
//! findings and events to every sink. Line numbers are record numbers, so the recording
//! checked later with `check` names the same lines with the same findings.
//!
//! It runs on a thread of its own at a lower priority and never touches a socket: a slow
//! sink or disk makes the tap drop events (counted and reported), never the relay wait.
//! The sinks themselves live in [`crate::sink`], one per file.

use std::io::{self, Write};

use crate::engine::{Engine, FeedError, Observation, Observer};
use crate::finding::{Finding, Severity};
use crate::sink::recorder::Recorder;
use crate::sink::{LiveOutcome, LiveSink};
use crate::source::proxy::tap::{
    self, Nap, Notice, NoticeKind, Tap, TapKind, TapLimits, TapReceiver,
};
use crate::time::Timestamp;

/// The engine, the recorder and the sinks, before they run.
pub struct Inspector {
    engine: Engine,
    recorder: Option<Recorder<Box<dyn Write + Send>>>,
    sinks: Vec<Box<dyn LiveSink>>,
    fail_on: Severity,
    /// Stations gone (closed, not back) longer than this are forgotten by the engine.
    forget_after_us: Option<i64>,
}

impl Inspector {
    pub fn new(engine: Engine, fail_on: Severity) -> Self {
        Inspector {
            engine,
            recorder: None,
            sinks: Vec::new(),
            fail_on,
            forget_after_us: None,
        }
    }

    /// Makes the engine forget a station gone (closed, not reconnected) for `after`, judged
    /// by event time after each batch of events, the proxy's clock ticks included, so an idle
    /// proxy forgets too (see [`Engine::forget_gone`]).
    pub fn forget_after(mut self, after: std::time::Duration) -> Self {
        self.forget_after_us = Some(i64::try_from(after.as_micros()).unwrap_or(i64::MAX));
        self
    }

    /// Records every event to `out` (flushed per record).
    pub fn record_to(mut self, out: impl Write + Send + 'static) -> Self {
        self.recorder = Some(Recorder::new(Box::new(out)));
        self
    }

    /// Adds a sink.
    pub fn sink(mut self, sink: impl LiveSink + 'static) -> Self {
        self.sinks.push(Box::new(sink));
        self
    }

    /// Adds a sink chosen at run time.
    pub fn sink_boxed(mut self, sink: Box<dyn LiveSink>) -> Self {
        self.sinks.push(sink);
        self
    }

    fn notice_all(&mut self, conn: &str, kind: NoticeKind, text: String) {
        let n = Notice { kind, text };
        for s in &mut self.sinks {
            s.notice(conn, &n);
        }
    }

    /// Consumes the tap until every sender is gone.
    fn consume(mut self, mut rx: TapReceiver) -> LiveOutcome {
        let mut outcome = LiveOutcome::default();
        let mut out = Vec::new();
        let mut end = Timestamp::from_micros(0);
        let mut batch = Vec::with_capacity(BATCH);
        let mut nap = tap_nap();
        let observed = self.sinks.iter().any(|s| s.wants_observations());
        while rx.recv_batch_numbered(&mut batch, BATCH, &mut nap) {
            // `_held` keeps the event's share of the memory bounds until it is inspected.
            for (recorded_as, ev, _held) in batch.drain(..) {
                if let TapKind::Clock = ev.kind {
                    end = end.max(ev.at);
                    continue;
                }
                if let TapKind::Notice(n) = &ev.kind {
                    for s in &mut self.sinks {
                        s.notice(&ev.conn, n);
                    }
                    continue;
                }
                outcome.events += 1;
                end = end.max(ev.at);
                // Recorded by the tap (before forwarding): the record's own line number.
                let line = if recorded_as > 0 {
                    recorded_as
                } else {
                    outcome.events
                };
                let Some(event) = ev.event(line) else {
                    continue;
                };
                if let TapKind::Open(o) = &ev.kind {
                    for s in &mut self.sinks {
                        s.peer(&ev.conn, &o.peer);
                    }
                }
                if let Some(rec) = &mut self.recorder
                    && let Err(e) = rec.record(&event)
                {
                    let msg = format!("recording stopped: {e}");
                    self.recorder = None;
                    self.notice_all(&ev.conn, NoticeKind::Conn, msg.clone());
                    outcome.problems.push(msg);
                }
                out.clear();
                let fed = if observed {
                    let mut to_sinks = Fanout(&mut self.sinks);
                    self.engine.feed_observed(&event, &mut out, &mut to_sinks)
                } else {
                    self.engine.feed(&event, &mut out)
                };
                if let Err(FeedError::NoVersion { conn }) = fed {
                    self.notice_all(
                        &conn,
                        NoticeKind::Conn,
                        "no subprotocol was negotiated and no --ocpp version was given; only framing is checked on this connection".into(),
                    );
                }
                for s in &mut self.sinks {
                    s.event(&event);
                }
                self.deliver(&out, &mut outcome);
            }
            if let Some(after) = self.forget_after_us {
                out.clear();
                outcome.forgotten += self.engine.forget_gone(end, after, &mut out) as u64;
                self.deliver(&out, &mut outcome);
            }
        }
        out.clear();
        self.engine.finish(end, &mut out);
        self.deliver(&out, &mut outcome);
        outcome.stats = self.engine.stats();
        outcome.dropped = rx.dropped();
        outcome.dropped_unrecorded = self.recorder.is_some();
        if outcome.dropped > 0 {
            let text = outcome.dropped_text();
            self.notice_all("-", NoticeKind::Conn, text);
        }
        let skipped = rx.skipped();
        if skipped > 0 {
            self.notice_all(
                "-",
                NoticeKind::Conn,
                format!(
                    "{skipped} large frames were forwarded and recorded but not inspected: the in-flight budget had no room to inspect them"
                ),
            );
        }
        if let Some(rec) = self.recorder.take()
            && let Err(e) = rec.into_inner()
        {
            outcome
                .problems
                .push(format!("recording not finished: {e}"));
        }
        for s in &mut self.sinks {
            if let Err(e) = s.finish(&outcome) {
                outcome.problems.push(e.to_string());
            }
        }
        outcome
    }

    fn deliver(&mut self, found: &[Finding], outcome: &mut LiveOutcome) {
        for f in found {
            match f.severity {
                Severity::Error => outcome.errors += 1,
                Severity::Warning => outcome.warnings += 1,
                Severity::Info => outcome.infos += 1,
            }
            if f.severity >= self.fail_on {
                outcome.failing += 1;
            }
            for s in &mut self.sinks {
                s.finding(f);
            }
        }
    }
}

/// Hands each observation to every sink that wants them.
struct Fanout<'s>(&'s mut [Box<dyn LiveSink>]);

impl Observer for Fanout<'_> {
    fn observe(&mut self, o: &Observation<'_>) {
        for s in self.0.iter_mut() {
            if s.wants_observations() {
                s.observe(o);
            }
        }
    }
}

/// Events taken from the tap at once.
const BATCH: usize = 1024;

/// How the consumer waits for the tap: naps of 1 ms while traffic flows, parked after 50
/// empty naps. `OCPP_INSPECTOR_TAP_NAP_US` overrides the nap (0: a wake-up per event).
fn tap_nap() -> Nap {
    let us = std::env::var("OCPP_INSPECTOR_TAP_NAP_US")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    Nap::new(std::time::Duration::from_micros(us), 50)
}

/// The running consumer.
pub struct Consumer {
    done: tokio::sync::oneshot::Receiver<LiveOutcome>,
}

impl Consumer {
    /// Waits until every [`Tap`] is dropped (the proxy's `run` returned) and the tap is
    /// drained, the engine finished, the recording flushed and the sinks finished.
    pub async fn finish(self) -> io::Result<LiveOutcome> {
        self.done.await.map_err(|_| {
            io::Error::other("the inspection thread ended without an outcome (it failed)")
        })
    }
}

/// The inspection thread's nice value: above the relays' (0), so that on a busy machine a
/// relay woken by traffic preempts inspection rather than waiting behind it. Inspection still
/// gets its share (a nice-10 thread gets about a tenth of a contended core, all of an idle
/// one); when it cannot keep up, the tap drops and counts, as it always did.
const INSPECTION_NICE: i32 = 10;

/// Starts the consumer on a thread of its own (`inspector`, at a lower priority than the
/// relays); returns the tap for the proxy. Call inside a tokio runtime.
pub fn spawn(inspector: Inspector, limits: TapLimits) -> (Tap, Consumer) {
    let (tap, rx) = tap::tap(limits);
    let (tx, done) = tokio::sync::oneshot::channel();
    // The inspector moves into whichever thread runs it; if no thread can be started, a
    // blocking-pool thread of the runtime does (at normal priority).
    let start = std::sync::Arc::new(std::sync::Mutex::new(Some((inspector, rx, tx))));
    let own = start.clone();
    let spawned = std::thread::Builder::new()
        .name("inspector".into())
        .spawn(move || {
            let taken = own.lock().ok().and_then(|mut s| s.take());
            if let Some((inspector, rx, tx)) = taken {
                lower_priority();
                let _ = tx.send(inspector.consume(rx));
            }
        });
    if spawned.is_err()
        && let Some((inspector, rx, tx)) = start.lock().ok().and_then(|mut s| s.take())
    {
        tokio::task::spawn_blocking(move || {
            let _ = tx.send(inspector.consume(rx));
        });
    }
    (tap, Consumer { done })
}

/// Lowers the calling thread's priority to [`INSPECTION_NICE`] (Linux: `setpriority` on the
/// thread id affects that thread only). Best effort: refused, it runs at normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        let tid = rustix::thread::gettid();
        let _ = rustix::process::setpriority_process(Some(tid), INSPECTION_NICE);
    }
}

#[cfg(test)]
mod tests {
    use crate::source::proxy::tap::TapEvent;
    use std::sync::Mutex;

    use super::*;
    use crate::engine::SchemaSet;
    use crate::engine::schema::ErrataSelection;
    use crate::ocpp::Side;
    use crate::sink::json_report::JsonReport;
    use crate::sink::report::RunInfo;
    use crate::sink::stderr_lines::StderrLines;
    use crate::source::proxy::tap::OpenInfo;
    use std::sync::Arc;

    /// A writer the test can read after the inspector consumed it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Shared {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn ev(us: i64, kind: TapKind) -> TapEvent {
        TapEvent {
            at: Timestamp::from_micros(1_795_000_000_000_000 + us),
            conn: Arc::from("CP-001"),
            kind,
        }
    }

    #[test]
    fn records_judges_and_streams_one_line_per_finding_and_reports_drops() {
        let engine = Engine::new(
            Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap()),
            Arc::new(crate::engine::Config::default()),
            None,
        );
        let (lines, trace) = (Shared::default(), Shared::default());
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("r.json");
        let info = RunInfo {
            schemas: "built-in".into(),
            fail_on: Severity::Error,
        };
        let inspector = Inspector::new(engine, Severity::Error)
            .record_to(trace.clone())
            .sink(StderrLines::new(lines.clone()))
            .sink(JsonReport::new(report.clone(), None, info));
        // Room for four events: the fifth is dropped (inspection "lags").
        let (tap, rx) = tap::tap(TapLimits {
            events: 4,
            bytes: 1 << 20,
        });
        let open = OpenInfo {
            subprotocol: Some("ocpp1.6".into()),
            offered: Some("ocpp1.6".into()),
            scheme: "ws",
            basic_auth_user: Some("CP-001".into()),
            ..OpenInfo::default()
        };
        assert!(tap.send(ev(0, TapKind::Open(Box::new(open)))));
        assert!(tap.send(ev(
            10,
            TapKind::Frame {
                from: Side::Charger,
                text: "[2,\"42\",\"Heartbeat\",{}]".into(),
            }
        )));
        assert!(tap.send(ev(
            20,
            TapKind::Frame {
                from: Side::Csms,
                text: "[3,\"43\",{\"currentTime\":\"2026-11-22T10:15:03Z\"}]".into(),
            }
        )));
        assert!(tap.send(ev(
            30,
            TapKind::Close {
                code: Some(1000),
                by: Some(Side::Charger),
            }
        )));
        assert!(!tap.send(ev(
            40,
            TapKind::Binary {
                from: Side::Csms,
                len: 3
            }
        )));
        drop(tap);
        let outcome = inspector.consume(rx);

        assert_eq!(outcome.events, 4);
        assert_eq!(outcome.dropped, 1);
        assert!(outcome.failing >= 1, "{outcome:?}");
        assert_eq!(
            trace.text().lines().count(),
            4,
            "every judged event is recorded"
        );
        let out = lines.text();
        let find = |prefix: &str| {
            out.lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{out}"))
                .to_owned()
        };
        assert_eq!(
            find("open"),
            "open     CP-001  ws ocpp1.6 offered ocpp1.6 user CP-001"
        );
        assert!(
            find("error    CP-001  rpc.response-unknown-id  id=43  CALLRESULT `43`")
                .contains("matches no outstanding CALL")
        );
        assert_eq!(find("close"), "close    CP-001  code 1000 by charger");
        assert!(find("conn     -  1 events were not inspected").contains("forwarded"));
        assert!(find("summary").contains("1 events not inspected"));
        // Recorded by the inspection thread here: what it dropped is not recorded either.
        assert!(outcome.dropped_unrecorded);
        assert!(find("summary").contains("not recorded either"));
        assert!(find("conn     -  1 events were not inspected nor recorded").contains("forwarded"));
        // The open event's security facts reach the engine: basic auth over plain ws.
        assert!(find("warning  CP-001  auth.basic-over-plain-ws  Basic-auth").contains("ws://"));

        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let findings = doc["findings"].as_array().unwrap();
        let f = findings
            .iter()
            .find(|f| f["rule"] == "rpc.response-unknown-id")
            .unwrap();
        assert_eq!(f["line"], 3, "the record number of the frame");
        assert_eq!(f["file"], "proxy");
        assert_eq!(f["conn"], "CP-001");
        assert!(
            doc["input_errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("1 events were not inspected")
        );
    }

    /// The inspection thread runs at a lower priority than the relays (Linux: its nice value,
    /// read back from /proc), and still delivers its outcome.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn inspection_runs_on_its_own_lower_priority_thread() {
        let engine = Engine::new(
            Arc::new(SchemaSet::builtin(&ErrataSelection::all()).unwrap()),
            Arc::new(crate::engine::Config::default()),
            None,
        );
        let (tap, consumer) = spawn(
            Inspector::new(engine, Severity::Error),
            TapLimits::default(),
        );
        let nice_of_inspector = || {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(Result::ok)
                .find(|t| {
                    std::fs::read_to_string(t.path().join("comm")).unwrap_or_default()
                        == "inspector\n"
                })
                .map(|t| {
                    let stat = std::fs::read_to_string(t.path().join("stat")).unwrap();
                    // After `(comm)`: state is field 3 of stat(5), nice field 19.
                    let rest = stat.rsplit_once(')').unwrap().1;
                    rest.split_whitespace()
                        .nth(16)
                        .unwrap()
                        .parse::<i32>()
                        .unwrap()
                })
        };
        let mut nice = None;
        for _ in 0..200 {
            nice = nice_of_inspector();
            if nice == Some(INSPECTION_NICE) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(nice, Some(INSPECTION_NICE));
        assert!(tap.send(ev(
            0,
            TapKind::Frame {
                from: Side::Charger,
                text: "[2,\"1\",\"Heartbeat\",{}]".into(),
            }
        )));
        drop(tap);
        let outcome = tokio::time::timeout(std::time::Duration::from_secs(10), consumer.finish())
            .await
            .expect("the consumer ends once the taps are gone")
            .unwrap();
        assert_eq!(outcome.events, 1);
    }
}
