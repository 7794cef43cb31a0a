//! Live runs: the proxy's tap, the consumer that records, judges and hands everything to the
//! sinks ([`consumer`]), and the one builder that assembles a run for `proxy`, `testcase run
//! --live` and `demo` ([`live_run::LiveRun`]).
//!
//! ```text
//! charger ⇄ proxy (relay) ⇄ CSMS
//!              │ tap (bounded, never waits)
//!              ▼
//!          consumer thread ─► recorder ─► engine ─► sinks (stderr lines, JSON report,
//!                                            │        screen feed, live test cases, …)
//!                                            └─ observations to the sinks that want them
//! ```
//!
//! It handles no OS signals (the command line passes a stop future) and draws nothing (the
//! screen is [`crate::sink::tui`]'s).

pub mod consumer;
pub mod live_run;

pub use crate::sink::{LiveOutcome, LiveSink};
pub use consumer::{Consumer, Inspector, spawn};
pub use live_run::{Bound, LiveEnd, LiveRun, Running, Screen, ScreenParts};
