//! Where events come from: trace files (our JSON Lines), captures (pcap/pcapng), Open OCPP
//! Trace files and text logs, all through [`input`], and the proxy's tap. Sources turn bytes
//! into [`crate::engine::Event`]s and judge nothing.

pub mod input;
pub mod log;
pub mod oot;
pub mod pcap;
pub mod proxy;
pub mod trace_reader;
