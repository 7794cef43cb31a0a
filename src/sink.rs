//! Where findings go: the reports of `check` (text, JSON, JUnit). Sinks only render; they
//! never judge traffic.

pub mod recorder;
pub mod report;
pub mod tui;
