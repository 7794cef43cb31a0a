//! Where events come from: trace files (JSON Lines) and the proxy's tap, both turned into
//! the one event model ([`event`]). Sources turn bytes into events and judge nothing.

pub mod event;
pub mod proxy;
pub mod trace_reader;
