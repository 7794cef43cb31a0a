//! Where findings go: the reports of `check` (text, JSON, JUnit), the trace recorder, the
//! terminal UI (`view`, the live screen) and the live sinks, one per file ([`LiveSink`]:
//! [`stderr_lines`], [`json_report`], [`channel`], the UI's [`tui::feed::TuiSink`]). Sinks
//! only render; they never judge traffic, and they know the event model
//! ([`crate::source::event`]), not where the events came from.

pub mod channel;
pub mod findings_jsonl;
pub mod json_report;
pub mod recorder;
pub mod report;
pub mod stderr_lines;
pub mod tui;

use std::io;

use crate::engine::{Event, Observation, Stats};
use crate::finding::Finding;
use crate::source::event::Notice;

/// Where live findings and events go. Called on the consumer's thread, in order.
pub trait LiveSink: Send {
    /// Every engine event (open, frame, binary, close), after it was judged.
    fn event(&mut self, _event: &Event<'_>) {}
    /// Whether this sink wants the engine's observations ([`LiveSink::observe`]); when no
    /// sink does, the engine does not make them.
    fn wants_observations(&self) -> bool {
        false
    }
    /// What the engine made of an event (called while it is judged, before
    /// [`LiveSink::event`] and the event's findings).
    fn observe(&mut self, _observation: &Observation<'_>) {}
    /// A connection opened from this address (before its open event; the address is not
    /// part of the engine's event model).
    fn peer(&mut self, _conn: &str, _peer: &str) {}
    /// One finding.
    fn finding(&mut self, finding: &Finding);
    /// A message about a connection that is not an engine event (refusals, upstream down).
    fn notice(&mut self, _conn: &str, _notice: &Notice) {}
    /// The run is over.
    fn finish(&mut self, _outcome: &LiveOutcome) -> io::Result<()> {
        Ok(())
    }
}

/// What a live run came to.
#[derive(Debug, Clone, Default)]
pub struct LiveOutcome {
    pub stats: Stats,
    /// Engine events seen (= trace records written, when recording).
    pub events: u64,
    /// Events the tap dropped because inspection lagged (not judged; forwarded all the same).
    pub dropped: u64,
    /// Whether the dropped events are missing from the recording too: only when the
    /// inspection thread writes it (the proxy's relays record before forwarding, so what they
    /// recorded is kept whatever inspection does).
    pub dropped_unrecorded: bool,
    /// Stations forgotten after `--forget-after` without a connection.
    pub forgotten: u64,
    pub errors: u64,
    pub warnings: u64,
    pub infos: u64,
    /// Findings at or above the inspector's `fail_on`.
    pub failing: u64,
    /// Problems of the tool's own (recording stopped, report not written).
    pub problems: Vec<String>,
}

impl LiveOutcome {
    /// What the run's dropped events mean, in one sentence for the notices and the reports.
    pub fn dropped_text(&self) -> String {
        if self.dropped_unrecorded {
            format!(
                "{} events were not inspected nor recorded: inspection lagged behind the traffic (the traffic itself was forwarded)",
                self.dropped
            )
        } else {
            format!(
                "{} events were not inspected: inspection lagged behind the traffic (they were forwarded, and recorded when the proxy records)",
                self.dropped
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LiveOutcome;

    #[test]
    fn dropped_events_are_said_recorded_or_not_as_the_run_recorded() {
        let mut o = LiveOutcome {
            dropped: 3,
            ..LiveOutcome::default()
        };
        let relays = o.dropped_text();
        assert!(
            relays.starts_with("3 events were not inspected:"),
            "{relays}"
        );
        assert!(!relays.contains("nor recorded"), "{relays}");
        o.dropped_unrecorded = true;
        assert!(o.dropped_text().contains("not inspected nor recorded"));
    }
}
