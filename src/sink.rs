//! Where findings go: the reports of `check` (text, JSON, JUnit), the trace recorder, and
//! the terminal UI (`view`, the proxy's live screen). Sinks only render; they never judge
//! traffic.

pub mod recorder;
pub mod report;
pub mod tui;
