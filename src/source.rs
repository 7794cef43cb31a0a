//! Where events come from. For now: trace files (JSON Lines). The proxy's tap will live
//! here too. Sources turn bytes into [`crate::engine::Event`]s and judge nothing.

pub mod proxy;
pub mod trace_reader;
